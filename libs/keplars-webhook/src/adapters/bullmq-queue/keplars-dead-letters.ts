import type { Job, Queue } from 'bullmq';
import type { QueuedDelivery, QueuedHandlerFailure } from '../../core/ports/queued-delivery.js';

/** One delivery that was verified but not handled, kept until it is replayed or discarded. */
export interface KeplarsDeadLetter {
  /** Its id in the queue (the event id, or a hash of it when BullMQ cannot take that as an id). */
  readonly id: string;
  /**
   * `'handlers-failed'`: some handlers failed on every attempt. `'unreadable'`: a signed body the
   * module cannot read (not JSON, no type, failing validation), kept so nothing signed is dropped.
   */
  readonly kind: 'handlers-failed' | 'unreadable';
  /** The event's id (Keplars' own, or the derived `kpl_…`); absent for an `'unreadable'` body. */
  readonly eventId?: string;
  /** The event's type, e.g. `'email.bounced'`; absent for an `'unreadable'` body. */
  readonly type?: string;
  /** Why it is here, as a person would read it. */
  readonly reason: string;
  /** Attempts made before it became a dead letter. */
  readonly attempts: number;
  /** When Keplars' request arrived (the receiver wrote it down then). */
  readonly receivedAt: Date;
  /** When its last attempt failed, as BullMQ recorded it. */
  readonly failedAt?: Date;
  /** Each handler that never succeeded, with its last error. */
  readonly failures: readonly QueuedHandlerFailure[];
  /** Handlers that did succeed: a replay does not run them again. */
  readonly succeeded: readonly string[];
}

/** A dead letter with what was received: the exact body and its headers. */
export interface KeplarsDeadLetterDetails extends KeplarsDeadLetter {
  /** The raw body as received: text, or base64 when `bodyEncoding` says so. */
  readonly body: string;
  /** How `body` is written: `'utf8'` (the text itself) or `'base64'` (bytes that are not valid UTF-8). */
  readonly bodyEncoding: 'utf8' | 'base64';
  /** The headers kept with it (signature, timestamp, content type), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

const PAGE = 100;

/** BullMQ's words when a job to retry is no longer failed (ErrorCode.JobNotInState) or no longer exists (JobNotExist). */
const TAKEN_MEANWHILE = /is not in the failed state|Missing key for job/;

/**
 * The dead letters of queue mode: deliveries whose handlers failed on every attempt, and signed
 * bodies the module could not read. List them, look at one, replay one or all (only the handlers
 * that never succeeded run), or discard them. The same operations back the
 * `keplars-webhook dead-letters` command.
 *
 * @example
 * constructor(private readonly deadLetters: KeplarsDeadLetters) {}
 * for (const letter of await this.deadLetters.list()) console.log(letter.id, letter.reason);
 * await this.deadLetters.replay('evt_123');
 */
export class KeplarsDeadLetters {
  private readonly queue: Queue | undefined;

  /**
   * Apps get it injected from `KeplarsWebhookModule`; a script of your own may build one on the queue.
   * @param queue the BullMQ `Queue` of deliveries (typed loosely so apps without bullmq compile), or `undefined` in inline mode.
   */
  constructor(queue: object | undefined) {
    this.queue = queue as Queue | undefined;
  }

  /**
   * The dead letters, newest first, a page at a time.
   * @param options `offset` (default 0) and `limit` (default 100) of the page.
   */
  async list(options: { offset?: number; limit?: number } = {}): Promise<KeplarsDeadLetter[]> {
    const offset = options.offset ?? 0;
    const limit = options.limit ?? PAGE;
    const jobs = (await this.bullQueue().getFailed(offset, offset + limit - 1)) as Job<QueuedDelivery>[];
    return jobs.filter(Boolean).map((job) => summaryOf(job));
  }

  /** How many dead letters there are now. */
  async count(): Promise<number> {
    return this.bullQueue().getFailedCount();
  }

  /** One dead letter with its body and headers, or `undefined` if there is none with this id. */
  async show(id: string): Promise<KeplarsDeadLetterDetails | undefined> {
    const job = await this.failedJob(id);
    if (!job) return undefined;
    const { body, bodyEncoding, headers } = job.data;
    return { ...summaryOf(job), body, bodyEncoding, headers };
  }

  /**
   * Queues a dead letter again, with its attempts counted from zero; the handlers that succeeded
   * before are not run again. Whether there was such a dead letter.
   */
  async replay(id: string): Promise<boolean> {
    const job = await this.failedJob(id);
    if (!job) return false;
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch (error) {
      // Another replay (or a discard) took it between the look and the move: it is no dead letter now.
      if (error instanceof Error && TAKEN_MEANWHILE.test(error.message)) return false;
      throw error;
    }
    return true;
  }

  /** Replays every dead letter there is now; how many. */
  async replayAll(): Promise<number> {
    let replayed = 0;
    for (const id of await this.allIds()) if (await this.replay(id)) replayed++;
    return replayed;
  }

  /** Deletes a dead letter for good. Whether there was one. */
  async discard(id: string): Promise<boolean> {
    const job = await this.failedJob(id);
    if (!job) return false;
    await job.remove();
    return true;
  }

  /** Every id first, then act: a replayed delivery that fails at once must not be met again. */
  private async allIds(): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const jobs = await this.bullQueue().getFailed(offset, offset + PAGE - 1);
      ids.push(...jobs.filter(Boolean).map((job) => String(job.id)));
      if (jobs.length < PAGE) return ids;
    }
  }

  private async failedJob(id: string): Promise<Job<QueuedDelivery> | undefined> {
    const job = (await this.bullQueue().getJob(id)) as Job<QueuedDelivery> | undefined;
    if (!job || (await job.getState()) !== 'failed') return undefined;
    return job;
  }

  private bullQueue(): Queue {
    if (this.queue === undefined) {
      throw new Error('KeplarsDeadLetters needs queue mode: add queue: { redis } or queue: { postgres } to KeplarsWebhookModule.forRoot(); inline mode keeps no dead letters.');
    }
    return this.queue;
  }
}

function summaryOf(job: Job<QueuedDelivery>): KeplarsDeadLetter {
  const data = job.data;
  return {
    id: String(job.id),
    kind: data.unreadable ? 'unreadable' : 'handlers-failed',
    eventId: data.eventId,
    type: data.type,
    reason: job.failedReason ?? '',
    attempts: job.attemptsMade,
    receivedAt: new Date(data.receivedAt),
    failedAt: job.finishedOn ? new Date(job.finishedOn) : undefined,
    failures: data.failures ?? [],
    succeeded: data.succeeded ?? [],
  };
}
