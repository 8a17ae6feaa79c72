// The robustness suite (test/robustness): the main Jest settings, its own spec files, one file at a time
// (each boots real apps and drives them hard; two at once on a 2-core machine would only slow both).
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'robustness',
  testMatch: ['<rootDir>/test/robustness/**/*.robustness-spec.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
};
