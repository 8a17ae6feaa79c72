import type { Queue } from 'bullmq';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { BatchedDeliveryQueue, type WriteToCheck } from './batched-delivery-queue.js';

/**
 * The receiving side of queue mode on PostgreSQL, through BullMQ's Postgres backend
 * ({@link BatchedDeliveryQueue} does the batching; BullMQ's `addBulk` writes a batch's new jobs).
 * "Queued or handled?" asks BullMQ for each job's state (any state but `unknown` means it is in the
 * queue), then the store, for the events with no job: a job is removed only after its event is
 * marked handled, so asking in this order cannot miss an event that moves from one to the other.
 */
export class PostgresDeliveryQueue extends BatchedDeliveryQueue {
  constructor(
    queue: Queue,
    headerNames: readonly string[],
    private readonly store: KeplarsIdempotencyStore | undefined,
    timeoutMs: number,
  ) {
    super(queue, headerNames, timeoutMs, true, 'Postgres');
  }

  protected async queuedOrHandled(writes: readonly WriteToCheck[]): Promise<readonly boolean[]> {
    // BullMQ's backend has no "these ids" query: one state lookup per job, on its pool, side by side.
    const states = await Promise.all(writes.map(({ jobId }) => this.queue.getJobState(jobId)));
    return Promise.all(
      writes.map(({ eventKey }, index) => {
        if (states[index] !== 'unknown') return true;
        return eventKey !== undefined && this.store?.isHandled ? this.store.isHandled(eventKey) : false;
      }),
    );
  }
}
