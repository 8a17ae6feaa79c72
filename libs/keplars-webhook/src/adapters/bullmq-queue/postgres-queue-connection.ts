import type { Queue, Worker } from 'bullmq';
import type { QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { ResolvedPostgresQueue } from './keplars-queue.options.js';
import type { BullMQ } from './queue-connections.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { redactedUrl } from '../../core/support/redacted-url.js';

/** BullMQ's `Queue` and `Worker`, bound to its Postgres backend. */
export type PostgresQueueClasses = ReturnType<typeof postgresQueueClasses>;

/** The classes of BullMQ 6's own Postgres backend (`withBackend(createPostgresBackend)`). */
export function postgresQueueClasses(bullmq: BullMQ) {
  return bullmq.withBackend(bullmq.createPostgresBackend);
}

/** The connection option BullMQ's Postgres backend takes in its config form (the only form that carries a schema). */
export type PostgresQueueConnection = Exclude<ConstructorParameters<PostgresQueueClasses['Queue']>[1]['connection'], string | { query: unknown }>;

/**
 * The connection of one side, as a config object: BullMQ then builds a pool of its own whose
 * `search_path` is the schema (a `pg.Pool` passed in would always use schema `bullmq`, and a bare
 * connection string cannot name one). A receiver gives up on a connection after its
 * `operationTimeoutMs` (it answers 503 by then anyway, and must not pile up waiting connects); a
 * worker waits longer. Both create or migrate the schema at startup, under BullMQ's advisory lock.
 */
export function postgresQueueConnection(
  where: ResolvedPostgresQueue,
  side: 'receiver' | 'worker' | 'command',
  timeoutMs: number,
): PostgresQueueConnection {
  return {
    connectionString: where.connectionString,
    schema: where.schema,
    // A command only looks: it must not create a schema where the module never wrote one.
    ...(side === 'command' ? { skipMigrations: true } : { migrate: true }),
    keepAlive: true,
    connectionTimeoutMillis: side === 'worker' ? Math.max(timeoutMs, 10_000) : timeoutMs,
    application_name: `keplars-webhook-${side}`,
  } as PostgresQueueConnection;
}

/** How logs and errors name a queue on Postgres, without its password. */
export function describePostgresQueue(where: ResolvedPostgresQueue): string {
  return `the queue's Postgres (${redactedUrl(where.connectionString)}, schema "${where.schema}")`;
}

/** `new Queue(…)` on Postgres, saying how to install `pg` when BullMQ cannot load it. */
export function newPostgresQueue(classes: PostgresQueueClasses, name: string, connection: PostgresQueueConnection, extra: { defaultJobOptions?: object; skipMetasUpdate?: boolean } = {}): Queue<QueuedDelivery> {
  return needsPg(() => new classes.Queue<QueuedDelivery>(name, { connection, ...extra }) as unknown as Queue<QueuedDelivery>);
}

/** `new Worker(…)` on Postgres, not started: see {@link KeplarsQueueRuntime}'s `startWorker`. */
export function newPostgresWorker(classes: PostgresQueueClasses, ...args: ConstructorParameters<PostgresQueueClasses['Worker']>): Worker {
  return needsPg(() => new classes.Worker(...args) as unknown as Worker);
}

function needsPg<T>(create: () => T): T {
  try {
    return create();
  } catch (error) {
    if (error instanceof Error && /could not load the optional 'pg' package/.test(error.message)) {
      throw new KeplarsConfigurationError(['queue.postgres needs the "pg" package: npm install pg. Or put the queue on Redis with queue.redis.']);
    }
    throw error;
  }
}
