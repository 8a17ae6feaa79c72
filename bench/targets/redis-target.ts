import { REDIS_URL_ENV } from '../bench-config.js';

// What the targets on Redis (`module-redis`, `module-queue`) share: the server the benchmark started
// for them, and how long a Redis call may take before the module answers 503.

/** Under valgrind (`bench:instructions`) Redis answers are ~50x slower to arrive: wait longer there. */
export const operationTimeoutMs = Number(process.env['BENCH_REDIS_OPERATION_TIMEOUT_MS'] ?? 2000);

/** The URL of the benchmark's own Redis server, which it sets for the targets that need one. */
export function benchRedisUrl(target: string): string {
  const url = process.env[REDIS_URL_ENV];
  if (!url) throw new Error(`${target} needs ${REDIS_URL_ENV} (the benchmark starts a Redis server and sets it)`);
  return url;
}
