import type { Redis } from 'ioredis';
import { KEPLARS_QUEUE_NAME } from './keplars-queue.options.js';

/** Keys BullMQ keeps for a queue once it was used: any one of them says the queue is there. */
const QUEUE_KEYS = ['meta', 'events', 'wait', 'active', 'delayed', 'failed', 'completed'] as const;

/** Whether the module's queue has ever been written under this prefix on this Redis. Reads only. */
export async function keplarsQueueExists(redis: Redis, prefix: string): Promise<boolean> {
  return (await redis.exists(...QUEUE_KEYS.map((key) => `${prefix}:${KEPLARS_QUEUE_NAME}:${key}`))) > 0;
}

/** One queue of the module found on a Redis: its prefix and how many dead letters it holds. */
export interface FoundKeplarsQueue {
  readonly prefix: string;
  readonly deadLetters: number;
}

/**
 * The module's queues on this Redis, by the meta key BullMQ writes for each (`<prefix>:keplars-webhook:meta`),
 * found with SCAN (never KEYS, and only reads): so a command that looked under the wrong prefix can say
 * which ones there are. Stops after `limit` queues or `maxScanned` keys, so a huge Redis is not walked whole.
 */
export async function findKeplarsQueues(redis: Redis, { limit = 20, maxScanned = 200_000 } = {}): Promise<FoundKeplarsQueue[]> {
  const suffix = `:${KEPLARS_QUEUE_NAME}:meta`;
  const prefixes = new Set<string>();
  let cursor = '0';
  let scanned = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${suffix}`, 'COUNT', 1000);
    cursor = next;
    scanned += 1000;
    for (const key of keys) if (key.endsWith(suffix) && prefixes.size < limit) prefixes.add(key.slice(0, -suffix.length));
  } while (cursor !== '0' && prefixes.size < limit && scanned < maxScanned);
  const sorted = [...prefixes].sort();
  const counts = await Promise.all(sorted.map((prefix) => redis.zcard(`${prefix}:${KEPLARS_QUEUE_NAME}:failed`)));
  return sorted.map((prefix, index) => ({ prefix, deadLetters: counts[index]! }));
}
