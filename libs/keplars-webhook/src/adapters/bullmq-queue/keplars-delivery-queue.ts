import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { rawBodyOf, type QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { DeliveryQueue } from '../../core/ports/delivery-queue.js';
import { keplarsEventKey } from '../../core/4-deliver/event-key.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
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

/** Thrown when Redis did not acknowledge the write: the delivery was not queued, answer 503. */
export class KeplarsQueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the queue's Redis did not take the delivery: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'KeplarsQueueUnavailableError';
  }
}

/** Where an event's "handled" mark lives when it is on the queue's own Redis: see {@link KeplarsDeliveryQueue}. */
export type HandledMarkOf = (eventKey: string) => { readonly key: string; readonly field: string };

// For each delivery of a batch, in order: 1 if its job is in Redis (waiting, delayed, running, a dead
// letter) or its event is marked handled, else 0. ARGV[1] is the mark's field; ARGV[1 + i] says how
// many keys delivery i has in KEYS: 1 (its job's) or 2 (and its event's mark).
const QUEUED_OR_HANDLED = `
local answers, k = {}, 1
for i = 2, #ARGV do
  local seen = redis.call('EXISTS', KEYS[k])
  if seen == 0 and ARGV[i] == '2' then seen = redis.call('HEXISTS', KEYS[k + 1], ARGV[1]) end
  answers[i - 1] = seen
  k = k + tonumber(ARGV[i])
end
return answers`;
const SCRIPT_COMMAND = 'keplarsQueuedOrHandled';

interface PendingWrite {
  readonly delivery: QueuedDelivery;
  readonly jobId: string;
  readonly jobName: string;
  /** The event's key (endpoint, tenant, id); absent for an unreadable body. */
  readonly eventKey: string | undefined;
  readonly watched: Watched;
  readonly resolve: (write: QueueWrite) => void;
}

/**
 * The receiving side of queue mode: writes a verified delivery to the queue, once per event. A
 * redelivery of an event whose job is still in Redis (waiting, delayed for a retry, running, or a
 * dead letter), or that the store says is handled, is a duplicate and is not queued again; the job
 * id (the event id) makes two deliveries racing each other one job all the same. A worker records
 * the event handled before its job completes (and is removed), so there is no gap between the two.
 *
 * What costs a receiver is not Redis but each call it makes (a command built, a socket write), so
 * on one Redis server (not a Cluster) the writes asked for in one turn of the event loop go together:
 * one script asks "queued or handled?" for all of them (the marks too, when the store keeps them on
 * this Redis: `handledMarkOf`), then BullMQ's `addBulk` writes the new ones in one pipeline, each
 * job by BullMQ's own script, whole or not at all. A delivery is answered once its own job is
 * acknowledged; if the batch fails, none is answered 2xx.
 */
export class KeplarsDeliveryQueue implements DeliveryQueue {
  private readonly deadlines: OperationDeadlines;
  /** The writes of this turn, sent at its end; none on a Cluster (its keys live on several nodes). */
  private pending: PendingWrite[] | undefined;
  private readonly batches: boolean;

  constructor(
    readonly queue: Queue,
    /** The request headers kept with each delivery: the signature's, the timestamp's, the content type. */
    readonly headerNames: readonly string[],
    private readonly client: Redis,
    private readonly store: KeplarsIdempotencyStore | undefined,
    timeoutMs: number,
    /** Given when the store's marks live on the queue's Redis: the check reads them in its script. */
    private readonly handledMarkOf?: HandledMarkOf,
  ) {
    this.deadlines = new OperationDeadlines(timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    this.batches = (client as { isCluster?: boolean }).isCluster !== true;
    if (this.batches) client.defineCommand(SCRIPT_COMMAND, { lua: QUEUED_OR_HANDLED });
  }

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
      const watched = this.deadlines.start((error) => reject(new KeplarsQueueUnavailableError(error)));
      const done = (write: QueueWrite): void => {
        if (this.deadlines.finish(watched)) resolve(write);
      };
      if (!this.batches) {
        this.writeOnce(delivery, jobId, jobName, eventKey).then(done, (error: unknown) => this.fail(watched, error));
        return;
      }
      if (this.pending === undefined) {
        this.pending = [];
        setImmediate(() => this.flush());
      }
      this.pending.push({ delivery, jobId, jobName, eventKey, watched, resolve: done });
    });
  }

  private flush(): void {
    const batch = this.pending!;
    this.pending = undefined;
    this.writeBatch(batch).catch((error: unknown) => {
      for (const write of batch) this.fail(write.watched, error);
    });
  }

  private fail(watched: Watched, error: unknown): void {
    const fail = watched.fail;
    if (this.deadlines.finish(watched)) fail!(error as Error);
  }

  private async writeBatch(batch: readonly PendingWrite[]): Promise<void> {
    const keys: string[] = [];
    const args: (string | number)[] = ['!done'];
    const elsewhere: (Promise<boolean> | false)[] = []; // marks the script cannot read: the store's own call
    for (const { jobId, eventKey } of batch) {
      keys.push(this.queue.toKey(jobId));
      if (eventKey !== undefined && this.handledMarkOf) {
        const mark = this.handledMarkOf(eventKey);
        keys.push(mark.key);
        args[0] = mark.field;
        args.push(2);
        elsewhere.push(false);
      } else {
        args.push(1);
        elsewhere.push(eventKey !== undefined && this.store?.isHandled ? this.store.isHandled(eventKey) : false);
      }
    }
    const [seen, handled] = await Promise.all([this.queuedOrHandled(keys, args), Promise.all(elsewhere)]);
    const fresh: PendingWrite[] = [];
    const twins: PendingWrite[] = []; // a second copy of an event in the same batch
    const jobIds = new Set<string>();
    batch.forEach((write, index) => {
      if (seen[index] === 1 || handled[index]) write.resolve('duplicate');
      else if (jobIds.has(write.jobId)) twins.push(write);
      else {
        jobIds.add(write.jobId);
        fresh.push(write);
      }
    });
    if (fresh.length === 0) return;
    // BullMQ's own script per job, sent as one pipeline: each job written whole or not at all.
    await this.queue.addBulk(fresh.map(({ jobName, delivery, jobId }) => ({ name: jobName, data: delivery, opts: { jobId } })));
    for (const write of fresh) write.resolve('queued');
    for (const write of twins) write.resolve('duplicate'); // its twin is written: one job
  }

  private queuedOrHandled(keys: readonly string[], args: readonly (string | number)[]): Promise<number[]> {
    const command = (this.client as unknown as Record<typeof SCRIPT_COMMAND, (...keysAndArgs: (number | string)[]) => Promise<number[]>>)[SCRIPT_COMMAND];
    return command.call(this.client, keys.length, ...keys, ...args);
  }

  /** One delivery on its own (on a Cluster): the job's key and the store's mark may be on two nodes. */
  private async writeOnce(delivery: QueuedDelivery, jobId: string, jobName: string, eventKey: string | undefined): Promise<QueueWrite> {
    const [queued, handled] = await Promise.all([
      this.client.exists(this.queue.toKey(jobId)),
      eventKey !== undefined && this.store?.isHandled ? this.store.isHandled(eventKey) : false,
    ]);
    if (queued === 1 || handled) return 'duplicate';
    // One script, atomic: the job is written whole or not at all. Two deliveries racing past the
    // check above still make one job, by its id.
    await this.queue.add(jobName, delivery, { jobId });
    return 'queued';
  }
}
