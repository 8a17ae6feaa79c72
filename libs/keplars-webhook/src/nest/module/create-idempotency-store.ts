import type { ResolvedDeduplication } from '../options/resolve-keplars-options.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { MemoryIdempotencyStore } from '../../adapters/memory-store/memory-idempotency.store.js';
import { RedisIdempotencyStore } from '../../adapters/redis-store/redis-idempotency.store.js';
import { connectRedisStore } from '../../adapters/redis-store/connect-redis-store.js';
import { connectPostgresStore } from '../../adapters/postgres-store/connect-postgres-store.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { redactedUrl } from '../../core/support/redacted-url.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

export type StoreLogger = Pick<KeplarsLogger, 'log' | 'warn' | 'error'>;

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
    case 'postgres':
      return connectPostgresStore(store.target, store.settings, logger);
    case 'redis': {
      const { redis, keyPrefix, operationTimeoutMs } = store.options;
      if (typeof redis !== 'string') return new RedisIdempotencyStore(redis, { keyPrefix, operationTimeoutMs });
      const description = `Redis at ${redactedUrl(redis)}`;
      return new RedisIdempotencyStore(await connectRedisStore(redis, description, logger), { keyPrefix, operationTimeoutMs, description }, true);
    }
  }
}
