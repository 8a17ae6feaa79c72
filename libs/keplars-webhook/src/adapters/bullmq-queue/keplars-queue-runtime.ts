import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { ResolvedPostgresQueue, ResolvedQueueOptions } from './keplars-queue.options.js';
import { startQueueWorker, type NewQueueWorker, type QueueWorkerParts } from './keplars-queue-worker.js';
import { closeQueueConnection, loadBullMQ, openQueueConnection, type BullMQ } from './queue-connections.js';
import { describePostgresQueue, newPostgresQueue, newPostgresWorker, postgresQueueClasses, postgresQueueConnection } from './postgres-queue-connection.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/** What the worker needs besides what the runtime holds. */
export type WorkerStartParts = Omit<QueueWorkerParts, 'bullmq' | 'newWorker' | 'options' | 'logger'>;

/**
 * The BullMQ side of queue mode for one app: the queue (receivers write to it, the dead letters are
 * read from it) and, in a role that processes, the worker. It owns their connections, on Redis or on
 * Postgres (BullMQ's own Postgres backend).
 */
export class KeplarsQueueRuntime {
  private worker: Worker | undefined;
  private workerConnection: Redis | undefined;
  private closed = false;

  private constructor(
    readonly options: ResolvedQueueOptions,
    readonly bullmq: BullMQ,
    readonly queue: Queue<QueuedDelivery>,
    /** The receiver's Redis connection; `undefined` when the queue is on Postgres. */
    readonly connection: Redis | undefined,
    private readonly logger: KeplarsLogger,
  ) {}

  static async open(options: ResolvedQueueOptions, logger: KeplarsLogger): Promise<KeplarsQueueRuntime> {
    const bullmq = await loadBullMQ();
    const defaultJobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoff.delayMs, jitter: options.backoff.jitter },
      // Gone once done: from then on the store's marks alone say "handled", within the window they
      // keep (shorter for ids derived from content). A kept job would hold its id, and answer a
      // genuine repeat of an id-less event "duplicate" long after that window.
      removeOnComplete: true,
      removeOnFail: false, // the dead letters: kept until replayed or discarded
    };
    if (options.postgres) return KeplarsQueueRuntime.openOnPostgres(options, options.postgres, bullmq, defaultJobOptions, logger);
    const connection = await openQueueConnection(options.redis!, 'receiver', logger);
    const queue = new bullmq.Queue<QueuedDelivery>(options.name, { connection, prefix: options.prefix, defaultJobOptions });
    queue.on('error', () => undefined); // the connection's own listener reports Redis being away
    return new KeplarsQueueRuntime(options, bullmq, queue, connection, logger);
  }

  /**
   * On Postgres the schema must be there before anything else, and BullMQ keeps the outcome of a
   * queue's first connection for good: a queue whose first connection failed never works, even
   * once Postgres is back. So the app waits for it here and refuses to start without it.
   */
  private static async openOnPostgres(options: ResolvedQueueOptions, where: ResolvedPostgresQueue, bullmq: BullMQ, defaultJobOptions: object, logger: KeplarsLogger): Promise<KeplarsQueueRuntime> {
    const queue = newPostgresQueue(postgresQueueClasses(bullmq), options.name, postgresQueueConnection(where, 'receiver', options.operationTimeoutMs), { defaultJobOptions });
    queue.on('error', reportedOncePerMinute(logger, `${describePostgresQueue(where)} failed`, 'webhooks are answered 503 while it is unreachable; Keplars retries them'));
    try {
      await queue.waitUntilReady();
    } catch (error) {
      await queue.close().catch(() => undefined);
      throw new KeplarsConfigurationError([
        `${describePostgresQueue(where)} could not be reached or prepared at startup (${(error as Error).message}). ` +
          'Check queue.postgres (and that this user may create the schema), then start the app once PostgreSQL is up: ' +
          "BullMQ's Postgres backend cannot recover a queue whose first connection failed.",
      ]);
    }
    return new KeplarsQueueRuntime(options, bullmq, queue, undefined, logger);
  }

  /**
   * Starts the worker once its connection is up: on Redis a worker created while Redis is away never
   * starts taking jobs, so an app booted during a Redis outage waits for Redis, then works. On
   * Postgres a worker whose first connection failed never recovers, so it is built again until one
   * gets through.
   */
  async startWorker(parts: WorkerStartParts): Promise<void> {
    if (this.options.postgres) return this.startPostgresWorker(parts, this.options.postgres);
    const connection = await openQueueConnection(this.options.redis!, 'worker', this.logger);
    this.workerConnection = connection;
    const newWorker: NewQueueWorker = (name, processor, options) => new this.bullmq.Worker(name, processor, { ...options, connection });
    const start = () => {
      if (this.workerConnection !== connection || this.worker) return; // closed meanwhile, or started
      this.worker = startQueueWorker({ ...parts, bullmq: this.bullmq, newWorker, options: this.options, logger: this.logger });
    };
    if (connection.status === 'ready') start();
    else connection.once('ready', start);
  }

  private async startPostgresWorker(parts: WorkerStartParts, where: ResolvedPostgresQueue): Promise<void> {
    const classes = postgresQueueClasses(this.bullmq);
    const connection = postgresQueueConnection(where, 'worker', this.options.operationTimeoutMs);
    const newWorker: NewQueueWorker = (name, processor, options) => newPostgresWorker(classes, name, processor as never, { ...options, connection, autorun: false }) as ReturnType<NewQueueWorker>;
    let said = false;
    while (!this.closed) {
      const worker = startQueueWorker({ ...parts, bullmq: this.bullmq, newWorker, options: this.options, logger: this.logger });
      try {
        await worker.waitUntilReady();
      } catch (error) {
        await worker.close().catch(() => undefined);
        if (!said) this.logger.error(`${describePostgresQueue(where)} is unreachable for the worker (${(error as Error).message}): it tries again every 2 s; queued deliveries are safe there.`);
        said = true;
        await new Promise((resolve) => setTimeout(resolve, 2000).unref());
        continue;
      }
      if (this.closed) return void (await worker.close());
      this.worker = worker;
      void worker.run().catch((error: unknown) => this.logger.error(`The Keplars queue worker stopped: ${(error as Error).message}`));
      return;
    }
  }

  /** Lets the deliveries being handled finish, and takes no more. */
  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopWorker();
    const workerConnection = this.workerConnection;
    this.workerConnection = undefined;
    await this.queue.close().catch(() => undefined);
    await Promise.all([this.connection, workerConnection].map((client) => client && closeQueueConnection(client)));
  }
}

/** An error listener that says the first error of each minute, with what it means. */
function reportedOncePerMinute(logger: KeplarsLogger, what: string, meaning: string): (error: Error) => void {
  let quiet = false;
  return (error) => {
    if (quiet) return;
    quiet = true;
    setTimeout(() => (quiet = false), 60_000).unref();
    logger.error(`${what} (${error.message}): ${meaning}.`);
  };
}
