import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedDelivery } from '../1-receive/queued-delivery.js';
import { keplarsEventKey } from '../5-deduplicate/event-key.js';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';

/** How writing a delivery down ended. */
export type QueueWrite = 'queued' | 'duplicate';

/** Job name of a delivery the receiver could not read: it waits in the dead letters for a replay. */
export const UNREADABLE_JOB_NAME = 'unreadable';

const SAFE_ID = /^[A-Za-z0-9_.~-]{1,128}$/;

/**
 * The BullMQ job id of an event: its id when BullMQ accepts it as one (not an integer, no `:`), else
 * a hash of it, so any id a payload carries makes a valid job and the same event always the same job.
 */
export function deliveryJobId(eventId: string): string {
  if (SAFE_ID.test(eventId) && `${Number.parseInt(eventId, 10)}` !== eventId) return eventId;
  return `h_${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

/** The job id of an unreadable body: the same bytes are kept once. */
export function unreadableJobId(rawBody: Buffer): string {
  return `unreadable_${createHash('sha256').update(rawBody).digest('hex').slice(0, 40)}`;
}

/** Thrown when Redis did not acknowledge the write: the delivery was not queued, answer 503. */
export class KeplarsQueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the queue's Redis did not take the delivery: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'KeplarsQueueUnavailableError';
  }
}

/**
 * The receiving side of queue mode: writes a verified delivery to the queue, once per event. A
 * redelivery of an event whose job is still in Redis (waiting, delayed for a retry, running, or a
 * dead letter), or that the store says is handled, is a duplicate and is not queued again; the job
 * id (the event id) makes two deliveries racing each other one job all the same. A worker records
 * the event handled before its job completes (and is removed), so there is no gap between the two.
 */
export class KeplarsDeliveryQueue {
  constructor(
    readonly queue: Queue,
    /** The request headers kept with each delivery: the signature's, the timestamp's, the content type. */
    readonly headerNames: readonly string[],
    private readonly client: Redis,
    private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly timeoutMs: number,
  ) {}

  async write(delivery: QueuedDelivery, jobId: string, jobName: string): Promise<QueueWrite> {
    try {
      return await this.withinTimeout(this.writeOnce(delivery, jobId, jobName));
    } catch (error) {
      throw new KeplarsQueueUnavailableError(error);
    }
  }

  private async writeOnce(delivery: QueuedDelivery, jobId: string, jobName: string): Promise<QueueWrite> {
    const { eventId } = delivery;
    const [queued, handled] = await Promise.all([
      this.client.exists(this.queue.toKey(jobId)),
      eventId !== undefined && this.store?.isHandled ? this.store.isHandled(keplarsEventKey(delivery, eventId)) : false,
    ]);
    if (queued === 1 || handled) return 'duplicate';
    // One script, atomic: the job is written whole or not at all. Two deliveries racing past the
    // check above still make one job, by its id.
    await this.queue.add(jobName, delivery, { jobId });
    return 'queued';
  }

  private withinTimeout<T>(operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    operation.catch(() => undefined); // a late rejection after the timeout is already answered
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }
}
