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
    // Jest's CommonJS loader cannot require() an ES module (Node 20.19+ can, so apps are fine):
    // @fastify/static (under @bull-board/fastify, the dashboard on Fastify) requires content-disposition
    // 3, which is ESM only. Under Jest it gets the CommonJS 2.x that Express uses: the same create().
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
  },
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/apps/*/test/**/*.e2e-spec.ts'],
  // test/consumers/apps are apps of their own, tested on the packed package by npm run test:consumers.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/consumers/'],
  // dist/package holds a built copy of the library's package.json: keep Jest's module map out of it.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Uses the Redis at REDIS_URL (default 127.0.0.1:6379), or starts a throwaway one.
  globalSetup: '<rootDir>/test/support/redis-global-setup.js',
  globalTeardown: '<rootDir>/test/support/redis-global-teardown.js',
  // Two test files at a time even on a 2-core machine (Jest's default is cores - 1): most suites wait on
  // sockets, Redis and Postgres, not on the CPU. The whole suite took 189 s this way against about 370 s
  // one file at a time. The robustness and browser suites keep one at a time (their own configs).
  maxWorkers: 2,
};
