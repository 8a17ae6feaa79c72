import type { ResolvedDeduplication } from '../options/resolve-keplars-options.js';
import { KeplarsConfigurationError } from '../options/resolve-keplars-options.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { MemoryIdempotencyStore } from '../../adapters/memory-store/memory-idempotency.store.js';
import { RedisIdempotencyStore, type KeplarsRedisClient } from '../../adapters/redis-store/redis-idempotency.store.js';

export interface StoreLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Builds the store the options name; a Redis URL gets a connection of its own. */
export async function createIdempotencyStore(dedup: ResolvedDeduplication, logger: StoreLogger): Promise<KeplarsIdempotencyStore> {
  const { store } = dedup;
  switch (store.kind) {
    case 'memory':
      return new MemoryIdempotencyStore({ maxEvents: store.maxEvents, logger });
    case 'custom':
      if (typeof store.store.renew !== 'function') {
        logger.warn(
          'The deduplication store you passed has no renew(eventId, token, lockMs): a handler that runs longer than ' +
            'deduplication.lockSeconds can be started again by a retry while it still runs. Add renew() to your store (see KeplarsIdempotencyStore).',
        );
      }
      return store.store;
    case 'redis': {
      const { redis, keyPrefix, operationTimeoutMs } = store.options;
      if (typeof redis !== 'string') return new RedisIdempotencyStore(redis, { keyPrefix, operationTimeoutMs });
      const description = `Redis at ${redactedUrl(redis)}`;
      return new RedisIdempotencyStore(await connectRedis(redis, description, logger), { keyPrefix, operationTimeoutMs, description }, true);
    }
  }
}

async function connectRedis(url: string, where: string, logger: StoreLogger): Promise<KeplarsRedisClient> {
  let Redis: typeof import('ioredis').Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch {
    throw new KeplarsConfigurationError(['deduplication.store.redis needs the "ioredis" package: npm install ioredis']);
  }
  const client = new Redis(url, {
    // Fail a call at once while disconnected, so a webhook gets 503 (and Keplars retries) instead
    // of waiting on a queue; the client keeps reconnecting in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: true,
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error(`${where} is unreachable (${error.message}): webhooks are answered 503 until it is back.`);
  });
  client.on('ready', () => {
    if (down) logger.log(`${where} is reachable again: webhooks are handled.`);
    down = false;
  });
  await client.connect().catch(() => undefined); // reported by the 'error' listener; reconnects on its own
  return client;
}

/** The URL without its password, for log lines. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
