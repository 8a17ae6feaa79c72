// The browser check (apps/sample/test/browser): the sample in queue mode, its dashboard driven by a real
// headless Chromium (Debian's, at /usr/bin/chromium or CHROMIUM_PATH). One file at a time, bounded.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'browser',
  testMatch: ['<rootDir>/apps/*/test/browser/**/*.browser-spec.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
};
