// The browser checks (apps/sample/test/browser): the sample's queue dashboard (queue mode) and its email
// ledger page, driven by a real headless Chromium (Debian's, at /usr/bin/chromium or CHROMIUM_PATH). One file
// at a time, bounded.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'browser',
  testMatch: ['<rootDir>/apps/*/test/browser/**/*.browser-spec.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
};
