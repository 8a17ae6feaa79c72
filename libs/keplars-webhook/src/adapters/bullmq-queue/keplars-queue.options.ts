/**
 * Queue mode's options and their resolved form. They live here, under the queue, so that the queue's
 * code never reaches up into `module/`; the module only reads and wires them.
 */

/** What one app does in queue mode. */
export type KeplarsQueueRole = 'receive-and-process' | 'receive' | 'process';

export const KEPLARS_QUEUE_ROLES: readonly KeplarsQueueRole[] = ['receive-and-process', 'receive', 'process'];

/**
 * The part of an `ioredis` client queue mode uses: it opens connections of its own from it with
 * `duplicate()`, the settings BullMQ needs, and closes them itself; your client stays as it was.
 * Any ioredis `Redis` instance fits; it is spelled out here so that apps in inline mode need not
 * install `ioredis`.
 */
export interface KeplarsQueueRedisClient {
  /** Opens a new connection with this client's settings, `overrides` applied (ioredis' `duplicate()`). */
  duplicate(overrides?: Record<string, unknown>): unknown;
}

/**
 * Queue mode (SPEC §4a): each verified delivery is written to a BullMQ queue, on Redis (`redis`) or on
 * PostgreSQL (`postgres`, BullMQ 6's own Postgres backend), and answered at once; workers run the
 * handlers, retry failures with backoff, and keep what never succeeded as a dead letter you can
 * replay. Give exactly one of `redis` and `postgres`. Needs the `bullmq` package, with `ioredis` for
 * Redis or `pg` for Postgres.
 *
 * @example
 * KeplarsWebhookModule.forRoot({ secret, queue: { redis: process.env.REDIS_URL } })
 * // on the app's PostgreSQL instead, in a schema of its own:
 * KeplarsWebhookModule.forRoot({ secret, queue: { postgres: process.env.DATABASE_URL } })
 * // receivers and workers on different machines:
 * KeplarsWebhookModule.forRoot({ secret, queue: { redis: process.env.REDIS_URL, role: process.env.KEPLARS_ROLE } })
 */
export interface KeplarsQueueOptions {
  /**
   * The Redis of the queue: a URL (`redis://user:pass@host:6379/0`), or an `ioredis` client of your
   * app, from which the module opens its own connections. Unless `deduplication.store` says
   * otherwise, the handlers' success marks live there too. `undefined` (an unset
   * `process.env.REDIS_URL`) stops the app at startup. Give this or `postgres`, not both.
   */
  redis?: string | KeplarsQueueRedisClient | undefined;
  /**
   * The PostgreSQL of the queue, as a connection string (`postgres://user:pass@host:5432/app`): BullMQ's
   * Postgres backend keeps the queue in tables of `schema`, created (and migrated) at startup. A
   * connection string, not a `pg.Pool`: a pool of your app cannot be pointed at the schema. `undefined`
   * (an unset `process.env.DATABASE_URL`) stops the app at startup. Give this or `redis`, not both.
   */
  postgres?: string | undefined;
  /**
   * The PostgreSQL schema the queue's tables live in (with `postgres`); each app or endpoint that must
   * not share a queue gets its own. The Postgres counterpart of `prefix`.
   * @default 'keplars_webhook_queue'
   */
  schema?: string;
  /**
   * `'receive-and-process'`: this app answers Keplars and runs handlers. `'receive'`: it only
   * answers and writes deliveries down (no handler runs here). `'process'`: it only runs handlers
   * (no webhook route, no raw body needed), e.g. a worker started with `NestFactory.createApplicationContext`.
   * @default 'receive-and-process'
   */
  role?: KeplarsQueueRole;
  /** Prefix of the queue's Redis keys (BullMQ's `prefix`; with `redis` only, `schema` on Postgres). @default 'bull' */
  prefix?: string;
  /**
   * How many times a delivery's handlers are tried in all before the delivery becomes a dead letter.
   * With the default backoff, 14 attempts span about a day.
   * @default 14
   */
  attempts?: number;
  /**
   * The wait before retry n is `delaySeconds × 2^(n-1)`, shortened at random by up to `jitter`
   * (a fraction) so that retries of many events do not come back all at once.
   * @default { delaySeconds: 15, jitter: 0.5 }
   */
  backoff?: {
    /** The wait before the first retry, in seconds; each later wait doubles. @default 15 */
    delaySeconds?: number;
    /** The largest fraction (0 to 1) by which a wait is shortened at random. @default 0.5 */
    jitter?: number;
  };
  /** How many deliveries one worker process handles at once. @default 10 */
  concurrency?: number;
  /**
   * How long a worker may stop answering before its delivery is taken over by another worker (a
   * process that died or froze). BullMQ's `lockDuration`; it checks this often too.
   * @default 30
   */
  stalledSeconds?: number;
  /** How long writing a delivery may take before Keplars is answered 503 (it retries), on Redis or Postgres. @default 2000 */
  operationTimeoutMs?: number;
}

/** The name of the queue of deliveries; also of its dead letters (BullMQ's failed jobs of it). */
export const KEPLARS_QUEUE_NAME = 'keplars-webhook';

/**
 * The token of the BullMQ `Queue` in queue mode, spelled as `@nestjs/bullmq` spells queue tokens, so
 * `@InjectQueue('keplars-webhook')` and tools that look queues up by name (bull-board) find it.
 *
 * @example
 * constructor(@Inject(KEPLARS_QUEUE) private readonly queue: Queue) {}
 * const counts = await this.queue.getJobCounts('waiting', 'active', 'failed');
 */
export const KEPLARS_QUEUE = `BullQueue_${KEPLARS_QUEUE_NAME}`;

/** The schema of a queue on Postgres when `queue.schema` is left out. */
export const DEFAULT_QUEUE_SCHEMA = 'keplars_webhook_queue';

/** Where a queue on Postgres lives: the server, and the schema of its tables. */
export interface ResolvedPostgresQueue {
  readonly connectionString: string;
  readonly schema: string;
}

export interface ResolvedQueueOptions {
  /** The queue's Redis, when it is on Redis; exactly one of `redis` and `postgres` is set. */
  readonly redis?: string | KeplarsQueueRedisClient;
  /** The queue's Postgres, when it is on Postgres. */
  readonly postgres?: ResolvedPostgresQueue;
  readonly role: KeplarsQueueRole;
  readonly prefix: string;
  readonly name: string;
  readonly attempts: number;
  readonly backoff: { readonly delayMs: number; readonly jitter: number };
  readonly concurrency: number;
  readonly stalledMs: number;
  readonly operationTimeoutMs: number;
}

export const receives = (queue: ResolvedQueueOptions | undefined): boolean => queue === undefined || queue.role !== 'process';
export const processes = (queue: ResolvedQueueOptions | undefined): boolean => queue !== undefined && queue.role !== 'receive';
