import type { LoggerService } from '@nestjs/common';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedDelivery } from '../1-receive/queued-delivery.js';
import type { ResolvedQueueOptions } from './keplars-queue.options.js';
import { startQueueWorker, type QueueWorkerParts } from './keplars-queue-worker.js';
import { closeQueueConnection, loadBullMQ, openQueueConnection, type BullMQ } from './queue-connections.js';

/** Completed jobs kept at most (within the dedup window), for the dashboard and to answer redeliveries `duplicate` at once. */
const KEEP_COMPLETED = 10_000;

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
    private readonly logger: LoggerService,
  ) {}

  static async open(options: ResolvedQueueOptions, windowMs: number, logger: LoggerService): Promise<KeplarsQueueRuntime> {
    const bullmq = await loadBullMQ();
    const connection = await openQueueConnection(options.redis, 'receiver', logger);
    const queue = new bullmq.Queue<QueuedDelivery>(options.name, {
      connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoff.delayMs, jitter: options.backoff.jitter },
        removeOnComplete: { age: Math.ceil(windowMs / 1000), count: KEEP_COMPLETED },
        removeOnFail: false, // the dead letters: kept until replayed or discarded
      },
    });
    queue.on('error', () => undefined); // the connection's own listener reports Redis being away
    return new KeplarsQueueRuntime(options, bullmq, queue, connection, logger);
  }

  async startWorker(parts: Omit<QueueWorkerParts, 'bullmq' | 'connection' | 'options' | 'logger'>): Promise<void> {
    this.workerConnection = await openQueueConnection(this.options.redis, 'worker', this.logger);
    this.worker = startQueueWorker({ ...parts, bullmq: this.bullmq, connection: this.workerConnection, options: this.options, logger: this.logger });
  }

  /** Lets the deliveries being handled finish, and takes no more. */
  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async close(): Promise<void> {
    await this.stopWorker();
    await this.queue.close().catch(() => undefined);
    await Promise.all([this.connection, this.workerConnection].map((client) => client && closeQueueConnection(client)));
  }
}
