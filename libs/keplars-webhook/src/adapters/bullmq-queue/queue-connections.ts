import type { Redis, RedisOptions } from 'ioredis';
import type { KeplarsQueueRedisClient } from './keplars-queue.options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { redactedUrl } from '../../core/support/redacted-url.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

export type BullMQ = typeof import('bullmq');

/** Loads `bullmq` when queue mode is on, so that apps in inline mode need not install it. */
export async function loadBullMQ(): Promise<BullMQ> {
  try {
    return await import('bullmq');
  } catch (error) {
    throw new KeplarsConfigurationError([
      `queue mode needs the "bullmq" package (${(error as Error).message.split('\n')[0]}): npm install bullmq ioredis. ` +
        'Or leave the "queue" option out to handle webhooks inline.',
    ]);
  }
}

/** Where a queue connection says it is down or back. */
export type ConnectionLogger = Pick<KeplarsLogger, 'log' | 'error'>;

/**
 * What each side needs of its connection: a receiver must fail at once while Redis is away (Keplars
 * is answered 503 and retries), while a worker's blocking reads must wait for Redis to come back
 * (BullMQ requires `maxRetriesPerRequest: null` there).
 */
const SETTINGS: Record<'receiver' | 'worker', RedisOptions> = {
  receiver: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 },
  worker: { maxRetriesPerRequest: null, connectTimeout: 2000 },
};

/**
 * Opens a connection of the module's own, from a URL or from the app's client (`duplicate()`), so
 * the module can give it the settings its side needs and close it at shutdown.
 */
export async function openQueueConnection(
  redis: string | KeplarsQueueRedisClient,
  side: 'receiver' | 'worker',
  logger: ConnectionLogger,
): Promise<Redis> {
  const settings = { ...SETTINGS[side], lazyConnect: true };
  let client: Redis;
  if (typeof redis === 'string') {
    let Redis: typeof import('ioredis').Redis;
    try {
      ({ Redis } = await import('ioredis'));
    } catch {
      throw new KeplarsConfigurationError(['queue mode needs the "ioredis" package: npm install ioredis bullmq']);
    }
    client = new Redis(redis, settings);
  } else {
    client = redis.duplicate(settings) as Redis;
  }
  const where = `the queue's Redis (${typeof redis === 'string' ? redactedUrl(redis) : 'your client'})`;
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error(
      side === 'receiver'
        ? `${where} is unreachable (${error.message}): webhooks are answered 503 until it is back; Keplars retries them.`
        : `${where} is unreachable (${error.message}): workers wait for it; queued deliveries are safe in Redis.`,
    );
  });
  client.on('ready', () => {
    if (down) logger.log(`${where} is reachable again.`);
    down = false;
  });
  await client.connect().catch(() => undefined); // reported by the 'error' listener; reconnects on its own
  return client;
}

/** Closes a connection, whether it is up or still trying to reconnect. */
export async function closeQueueConnection(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
