// The NestJS 12 starter's vitest.config.e2e.ts (without its tsconfig-paths plugin: this app has no
// path aliases). The consumer test writes the package README's Vitest example into test/ and runs it.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
  },
});
