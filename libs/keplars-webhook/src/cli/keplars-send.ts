#!/usr/bin/env node
// keplars-send: a local "Test endpoint" button for your app's Keplars webhook. Run with --help.
import { runKeplarsSend } from './run-keplars-send.js';

runKeplarsSend(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keplars-send failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
