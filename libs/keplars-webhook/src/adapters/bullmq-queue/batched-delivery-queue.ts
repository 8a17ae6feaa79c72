import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { rawBodyOf, type QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { DeliveryQueue } from '../../core/ports/delivery-queue.js';
import { keplarsEventKey } from '../../core/4-deliver/event-key.js';
import { OperationDeadlines, type Watched } from '../../core/support/operation-deadlines.js';

/** How writing a delivery down ended. */
export type QueueWrite = Awaited<ReturnType<DeliveryQueue['enqueue']>>;

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

/** Thrown when the queue's server did not acknowledge the write: the delivery was not queued, answer 503. */
export class KeplarsQueueUnavailableError extends Error {
  constructor(cause: unknown, server = 'Redis') {
    super(`the queue's ${server} did not take the delivery: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'KeplarsQueueUnavailableError';
  }
}

/** One delivery to check: its job's id and, for a readable event, its key (endpoint, tenant, id). */
export interface WriteToCheck {
  readonly jobId: string;
  /** Absent for an unreadable body: only its job can make it a duplicate. */
  readonly eventKey: string | undefined;
}

interface PendingWrite extends WriteToCheck {
  readonly delivery: QueuedDelivery;
  readonly jobName: string;
  readonly watched: Watched;
  readonly resolve: (write: QueueWrite) => void;
}

/**
 * How many batches may be written at once. One more keeps the server busy while the answer to the
 * other travels; beyond that, writes wait and the next batch grows.
 */
const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * The receiving side of queue mode, whatever server holds the queue: writes a verified delivery to
 * the queue, once per event. A redelivery of an event whose job is still in the queue (waiting,
 * delayed for a retry, running, or a dead letter), or that the store says is handled, is a
 * duplicate and is not queued again; the job id (the event id) makes two deliveries racing each
 * other one job all the same. A worker records the event handled before its job completes (and is
 * removed), so there is no gap between the two.
 *
 * What costs a receiver is each call it makes to its server more than the server's work, so writes
 * go together: those asked for in one turn of the event loop, and those asked for while the batch
 * before them is being written: one "queued or handled?" check for all of them
 * ({@link queuedOrHandled}, the server's own way), then BullMQ's `addBulk` writes the new ones, each
 * job whole or not at all. A delivery is answered once its own job is acknowledged; if the
 * batch fails, none is answered 2xx. Where writes cannot go together (a Redis Cluster), each goes alone.
 */
export abstract class BatchedDeliveryQueue implements DeliveryQueue {
  private readonly deadlines: OperationDeadlines;
  /** The writes asked for since the last batch left, sent together as the next one. */
  private pending: PendingWrite[] | undefined;
  /** A flush is scheduled for the end of this turn. */
  private flushing = false;
  /** Batches being written: beyond {@link MAX_BATCHES_IN_FLIGHT}, the next one waits (or for a deadline, if the server never answers). */
  private inFlight = 0;
  private readonly timeoutMs: number;

  constructor(
    readonly queue: Queue,
    /** The request headers kept with each delivery: the signature's, the timestamp's, the content type. */
    readonly headerNames: readonly string[],
    timeoutMs: number,
    /** Whether the writes of one turn may share one check and one `addBulk`. */
    private readonly batches: boolean,
    /** The server, as the 503's cause names it. */
    private readonly server: string,
  ) {
    this.deadlines = new OperationDeadlines(timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    this.timeoutMs = timeoutMs;
  }

  /**
   * For each write, in order: whether its job is in the queue in any state, or its event is marked
   * handled. Rejects when the server cannot answer.
   */
  protected abstract queuedOrHandled(writes: readonly WriteToCheck[]): Promise<readonly boolean[]>;

  /**
   * One job per event and endpoint (and tenant): the same id from two accounts is two jobs. A body
   * that could not be read is one job per distinct bytes, named `unreadable`.
   */
  enqueue(delivery: QueuedDelivery): Promise<QueueWrite> {
    if (delivery.eventId === undefined) return this.write(delivery, unreadableJobId(rawBodyOf(delivery)), UNREADABLE_JOB_NAME);
    const eventKey = keplarsEventKey(delivery, delivery.eventId);
    return this.write(delivery, deliveryJobId(eventKey), delivery.type ?? UNREADABLE_JOB_NAME, eventKey);
  }

  /**
   * Writes the delivery as the job named, unless a job of that id is queued or the event is handled.
   * `eventKey` is the delivery's {@link keplarsEventKey} when the caller has it already.
   */
  write(delivery: QueuedDelivery, jobId: string, jobName: string, eventKey = delivery.eventId === undefined ? undefined : keplarsEventKey(delivery, delivery.eventId)): Promise<QueueWrite> {
    return new Promise((resolve, reject) => {
      const watched = this.deadlines.start((error) => reject(new KeplarsQueueUnavailableError(error, this.server)));
      const done = (write: QueueWrite): void => {
        if (this.deadlines.finish(watched)) resolve(write);
      };
      const pending: PendingWrite = { delivery, jobId, jobName, eventKey, watched, resolve: done };
      if (!this.batches) {
        this.writeOnce(pending).catch((error: unknown) => this.fail(watched, error));
        return;
      }
      (this.pending ??= []).push(pending);
      this.scheduleFlush();
    });
  }

  /** Sends the pending writes at the end of this turn, unless a batch is still being written (then once it is). */
  private scheduleFlush(): void {
    if (this.flushing || this.inFlight >= MAX_BATCHES_IN_FLIGHT || this.pending === undefined) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  /**
   * At most {@link MAX_BATCHES_IN_FLIGHT} batches at a time: the writes that arrive while they are
   * being written wait, then go together. Under load the batches grow instead of multiplying, so a
   * delivery's share of each batch's fixed cost (the check's round trip, BullMQ's pipeline, which
   * copies every script of the connection onto itself) shrinks; alone, a write still leaves at the
   * end of its turn.
   */
  private flush(): void {
    this.flushing = false;
    const batch = this.pending;
    if (batch === undefined) return;
    this.pending = undefined;
    this.inFlight++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(stuck);
      this.inFlight--;
      this.scheduleFlush();
    };
    // A server that never answers must not hold the writes behind it: their own deadlines answer them
    // 503, and this batch's place is given up once its time is up.
    const stuck = setTimeout(release, this.timeoutMs);
    stuck.unref();
    this.writeBatch(batch)
      .catch((error: unknown) => {
        for (const write of batch) this.fail(write.watched, error);
      })
      .finally(release);
  }

  private fail(watched: Watched, error: unknown): void {
    const fail = watched.fail;
    if (this.deadlines.finish(watched)) fail!(error as Error); // wrapped by the callback write() gave
  }

  private async writeBatch(batch: readonly PendingWrite[]): Promise<void> {
    const seen = await this.queuedOrHandled(batch);
    const fresh: PendingWrite[] = [];
    const twins: PendingWrite[] = []; // a second copy of an event in the same batch
    const jobIds = new Set<string>();
    batch.forEach((write, index) => {
      if (seen[index]) write.resolve('duplicate');
      else if (jobIds.has(write.jobId)) twins.push(write);
      else {
        jobIds.add(write.jobId);
        fresh.push(write);
      }
    });
    if (fresh.length === 0) return;
    // BullMQ's own write per job, sent together: each job written whole or not at all.
    await this.queue.addBulk(fresh.map(({ jobName, delivery, jobId }) => ({ name: jobName, data: delivery, opts: { jobId } })));
    for (const write of fresh) write.resolve('queued');
    for (const write of twins) write.resolve('duplicate'); // its twin is written: one job
  }

  /** One delivery on its own: checked, then written by BullMQ's `add` (two racing past the check still make one job, by its id). */
  private async writeOnce(write: PendingWrite): Promise<void> {
    const [seen] = await this.queuedOrHandled([write]);
    if (seen) return write.resolve('duplicate');
    await this.queue.add(write.jobName, write.delivery, { jobId: write.jobId });
    write.resolve('queued');
  }
}
