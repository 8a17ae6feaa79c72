// The NestJS 12 starter's vitest.config.e2e.ts (without its tsconfig-paths plugin: this app has no
// path aliases). The consumer test writes the guides' Vitest examples into test/ and runs them.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
  },
});
