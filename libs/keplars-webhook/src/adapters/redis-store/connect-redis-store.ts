import type { KeplarsRedisClient } from './redis-idempotency.store.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/** Where the store's connection says it is down or back. */
export type ConnectionLogger = Pick<KeplarsLogger, 'log' | 'error'>;

/**
 * A connection of the store's own, from a Redis URL: it fails a call at once while Redis is away (the
 * webhook is answered 503, Keplars retries) and says once when Redis goes and when it is back.
 */
export async function connectRedisStore(url: string, where: string, logger: ConnectionLogger): Promise<KeplarsRedisClient> {
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
