import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { ResolvedQueueOptions } from './keplars-queue.options.js';
import { startQueueWorker, type QueueWorkerParts } from './keplars-queue-worker.js';
import { closeQueueConnection, loadBullMQ, openQueueConnection, type BullMQ } from './queue-connections.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/**
 * The BullMQ side of queue mode for one app: the queue (receivers write to it, the dead letters are
 * read from it) and, in a role that processes, the worker. It owns their connections.
 */
export class KeplarsQueueRuntime {
  private worker: Worker | undefined;
  private workerConnection: Redis | undefined;

  private constructor(
    readonly options: ResolvedQueueOptions,
    readonly bullmq: BullMQ,
    readonly queue: Queue<QueuedDelivery>,
    readonly connection: Redis,
    private readonly logger: KeplarsLogger,
  ) {}

  static async open(options: ResolvedQueueOptions, logger: KeplarsLogger): Promise<KeplarsQueueRuntime> {
    const bullmq = await loadBullMQ();
    const connection = await openQueueConnection(options.redis, 'receiver', logger);
    const queue = new bullmq.Queue<QueuedDelivery>(options.name, {
      connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoff.delayMs, jitter: options.backoff.jitter },
        // Gone once done: from then on the store's marks alone say "handled", within the window they
        // keep (shorter for ids derived from content). A kept job would hold its id, and answer a
        // genuine repeat of an id-less event "duplicate" long after that window.
        removeOnComplete: true,
        removeOnFail: false, // the dead letters: kept until replayed or discarded
      },
    });
    queue.on('error', () => undefined); // the connection's own listener reports Redis being away
    return new KeplarsQueueRuntime(options, bullmq, queue, connection, logger);
  }

  /**
   * Starts the worker once its connection is up: a BullMQ worker created while Redis is away never
   * starts taking jobs, so an app booted during a Redis outage waits for Redis, then works.
   */
  async startWorker(parts: Omit<QueueWorkerParts, 'bullmq' | 'connection' | 'options' | 'logger'>): Promise<void> {
    const connection = await openQueueConnection(this.options.redis, 'worker', this.logger);
    this.workerConnection = connection;
    const start = () => {
      if (this.workerConnection !== connection || this.worker) return; // closed meanwhile, or started
      this.worker = startQueueWorker({ ...parts, bullmq: this.bullmq, connection, options: this.options, logger: this.logger });
    };
    if (connection.status === 'ready') start();
    else connection.once('ready', start);
  }

  /** Lets the deliveries being handled finish, and takes no more. */
  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async close(): Promise<void> {
    await this.stopWorker();
    const workerConnection = this.workerConnection;
    this.workerConnection = undefined;
    await this.queue.close().catch(() => undefined);
    await Promise.all([this.connection, workerConnection].map((client) => client && closeQueueConnection(client)));
  }
}
