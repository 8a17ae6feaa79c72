// Jest runs in native ESM mode (NestJS 12 is ESM-only): see TOOLCHAIN notes in README.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^nestjs-keplars-webhook/testing$': '<rootDir>/libs/keplars-webhook/src/testing/index.ts',
    '^nestjs-keplars-webhook$': '<rootDir>/libs/keplars-webhook/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
