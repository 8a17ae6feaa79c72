#!/usr/bin/env node
// keplars-webhook: operations on the module's queue mode, e.g. `keplars-webhook dead-letters list`. Run with --help.
import { runKeplarsWebhookCli } from './run-keplars-webhook.js';

runKeplarsWebhookCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keplars-webhook failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
