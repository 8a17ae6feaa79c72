import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import type { KeplarsRedisClient } from '../../adapters/redis-store/redis-idempotency.store.js';
import type { KeplarsQueueOptions } from '../../adapters/bullmq-queue/keplars-queue.options.js';
import type { KeplarsPgPool } from '../../adapters/postgres-store/pg-pool-connection.js';
import type { KeplarsTypeOrmDataSource } from '../../adapters/postgres-store/typeorm-connection.js';
import type { KeplarsPGlite } from '../../adapters/postgres-store/pglite-connection.js';

export type { KeplarsQueueOptions, KeplarsQueueRole } from '../../adapters/bullmq-queue/keplars-queue.options.js';

/**
 * Options of `KeplarsWebhookModule.forRoot()`, or what a `forRootAsync()` factory returns.
 *
 * @example
 * KeplarsWebhookModule.forRoot({ secret: [process.env.KEPLARS_SECRET_NEW, process.env.KEPLARS_SECRET_OLD] })
 */
export interface KeplarsWebhookOptions {
  /**
   * The webhook signing secret from the Keplars dashboard. A list accepts a request signed with any
   * one of them, for rotating the secret without downtime. Required, unless `tenants` is given.
   * `undefined` is accepted by the type, so an app can pass `process.env.KEPLARS_WEBHOOK_SECRET` as it
   * is; the module then refuses to start and says which variable to set.
   */
  secret?: string | readonly (string | undefined)[] | undefined;
  /**
   * One route for many Keplars accounts, each with its own secret, looked up per request: the tenant
   * is a parameter of the route's `path` (e.g. `/webhooks/keplars/:tenant`), and `resolveSecret` finds
   * its secret (in your database, a vault…). Give either `secret` or `tenants`.
   *
   * @example
   * KeplarsWebhookModule.forRootAsync({
   *   path: '/webhooks/keplars/:tenant',
   *   inject: [WorkspaceService],
   *   useFactory: (workspaces: WorkspaceService) => ({
   *     tenants: { resolveSecret: (tenant) => workspaces.keplarsSecretOf(tenant) },
   *   }),
   * })
   */
  tenants?: KeplarsTenantOptions;
  /** The request header that carries the signature. @default 'x-keplars-signature' */
  signatureHeader?: string;
  /**
   * The timestamped scheme: the signature covers `${timestamp}.${rawBody}` and requests older or newer
   * than the tolerance are refused (replay protection). Turn it on only if Keplars sends the header.
   * @default false
   */
  timestamp?: boolean | KeplarsTimestampOptions;
  /** The largest body accepted, in bytes; a larger one is answered 413. @default 102400 (100 KiB) */
  maxBodyBytes?: number;
  /**
   * Deduplication of Keplars' retries and concurrent duplicate deliveries (SPEC §4). `false` turns it
   * off: every delivery then runs every matching handler.
   * @default { store: 'memory', windowSeconds: 86400 }
   */
  deduplication?: false | KeplarsDeduplicationOptions;
  /**
   * Also run every `@OnEvent('keplars.<type>')` listener (e.g. `keplars.email.opened`, or a wildcard)
   * as a handler, with the same guarantees, when the app imports `EventEmitterModule`. Without that
   * module this does nothing.
   * @default true
   */
  emitEvents?: boolean;
  /**
   * Queue mode (SPEC §4a): write each verified delivery to a BullMQ queue on Redis, answer Keplars at
   * once, and run the handlers in workers, with retries over about a day and dead letters you can
   * replay. Leave it out for inline mode (the default), where handlers run inside Keplars' request.
   * @default undefined (inline mode)
   */
  queue?: KeplarsQueueOptions;
  /**
   * The email ledger and suppression list (SPEC §8): each email's status, timeline and engagement,
   * and the addresses not to email again, kept from this endpoint's events in the deduplication
   * store's database (memory, or Postgres/PGlite, where every write commits with the event's handled
   * mark). Read it with the injectable `KeplarsEmailLedger`. `true` takes every default.
   * @default false
   */
  ledger?: boolean | KeplarsLedgerOptions;
}

/**
 * The email ledger's settings (`ledger`).
 *
 * @example
 * KeplarsWebhookModule.forRoot({
 *   secret,
 *   deduplication: { store: { postgres: pool } },
 *   ledger: { retentionDays: 30, suppressions: { softBounces: { count: 5, withinDays: 14 }, expireAfterDays: { 'soft-bounces': 60 } } },
 * })
 */
export interface KeplarsLedgerOptions {
  /** Days an email and its timeline are kept after its last event; pruned on a timer, with no cron of yours. @default 90 */
  retentionDays?: number;
  /** The suppression policy. */
  suppressions?: KeplarsSuppressionOptions;
  /** How often the ledger prunes old emails. @default 3600 */
  pruneIntervalSeconds?: number;
}

/** When an address goes on the suppression list, and for how long (`ledger.suppressions`). */
export interface KeplarsSuppressionOptions {
  /**
   * Suppress after `count` soft bounces within `withinDays` (by the events' own times); `false` never
   * suppresses for soft bounces. A hard bounce and a complaint always suppress.
   * @default { count: 3, withinDays: 7 }
   */
  softBounces?:
    | false
    | {
        /** How many soft bounces suppress. */
        count: number;
        /** Within how many days of each other (by the events' times). */
        withinDays: number;
      };
  /**
   * Days a suppression lasts, per reason, from the event (or `suppress()` call) that caused it; a
   * reason left out lasts until `reactivate()`.
   * @default { 'soft-bounces': 30 }
   */
  expireAfterDays?: Partial<Record<'hard-bounce' | 'complaint' | 'soft-bounces' | 'manual', number>>;
  /** One list for every tenant of this import, instead of one per tenant (each import keeps its own). @default false */
  shared?: boolean;
}

/**
 * Finds a tenant's webhook secret (or secrets, during a rotation). `undefined`, `null` or an empty list
 * for a tenant that does not exist: its requests are answered 401, exactly like a wrong signature.
 * Throwing (or taking longer than `timeoutMs`) answers 503, so Keplars retries later.
 */
export type KeplarsSecretResolver = (tenant: string) => KeplarsResolvedSecret | Promise<KeplarsResolvedSecret>;
/**
 * What a {@link KeplarsSecretResolver} finds for a tenant: its secret, several secrets (any one of them
 * passes, for a rotation), or `undefined`, `null` or `[]` when there is no such tenant (answered 401).
 */
export type KeplarsResolvedSecret = string | readonly string[] | undefined | null;

/**
 * One route for many Keplars accounts (SPEC §7): the `tenants` option. The tenant comes from the
 * request's path, its secret from your `resolveSecret`, cached per tenant.
 *
 * @example
 * KeplarsWebhookModule.forRoot({
 *   path: '/webhooks/keplars/:tenant',
 *   tenants: { resolveSecret: (tenant) => secrets.get(tenant), cacheSeconds: 300 },
 * })
 */
export interface KeplarsTenantOptions {
  /** Looks up a tenant's secret; called at most once per tenant per `cacheSeconds`, even under load. */
  resolveSecret: KeplarsSecretResolver;
  /** The name of the route parameter that holds the tenant: the path must contain `:<parameter>`. @default 'tenant' */
  parameter?: string;
  /**
   * How long a tenant's secret (or its absence) is kept before it is looked up again: a rotated or
   * revoked secret takes effect within this time. @default 60
   */
  cacheSeconds?: number;
  /**
   * The most tenants with a secret kept in the cache; beyond it, the longest cached are looked up again
   * first. "No such tenant" answers are kept apart, at most a tenth as many, and never push a tenant
   * with a secret out. @default 10000
   */
  maxCachedTenants?: number;
  /**
   * Bounds what made-up tenant ids cost your resolver (anyone can send them: a well-formed signature
   * needs no secret). Lookups of tenants not known to have a secret run at most this many at once, and
   * at most this many a second may find no tenant (or fail); beyond it, such a request is answered 503
   * without a lookup (Keplars retries). A lookup that finds a secret gives its place back at once, and
   * tenants known to have a secret are always looked up again. @default 100
   */
  maxLookupsPerSecond?: number;
  /** How long `resolveSecret` may take before the request is answered 503, in ms. @default 2000 */
  timeoutMs?: number;
}

/**
 * The timestamped signature scheme's settings: the `timestamp` option, when `true` is not enough.
 * With it on, a request must carry its signing time, and the signature covers `${timestamp}.${rawBody}`.
 *
 * @example
 * KeplarsWebhookModule.forRoot({ secret, timestamp: { toleranceSeconds: 120 } })
 */
export interface KeplarsTimestampOptions {
  /** The header carrying the Unix time (seconds) of signing. @default 'x-keplars-timestamp' */
  header?: string;
  /** How far the timestamp may be from this server's clock, in either direction. @default 300 */
  toleranceSeconds?: number;
}

/**
 * How the module recognises Keplars' retries and concurrent copies of one event (SPEC §4): the
 * `deduplication` option. Within the window, a handler that succeeded for an event id is not run for
 * it again; a copy that arrives while the first still runs waits for it or is answered so that
 * Keplars retries.
 *
 * @example
 * // several instances of the app share their marks in Redis:
 * KeplarsWebhookModule.forRoot({ secret, deduplication: { store: { redis: process.env.REDIS_URL }, windowSeconds: 3 * 86400 } })
 */
export interface KeplarsDeduplicationOptions {
  /** How long a handled event is remembered, in seconds. @default 86400 (24 h) */
  windowSeconds?: number;
  /**
   * How long an event *without* an id of Keplars' own is remembered, in seconds. Its `kpl_…` id is
   * derived from its content, and content cannot tell a retry from a genuine repeat (a second open of
   * the same email, a second click): within this window a repeat counts as a duplicate, after it a
   * retry runs the handlers again. Keplars retries within minutes; a person's second open is usually
   * later. At most `windowSeconds`.
   * @default 300 (5 minutes)
   */
  derivedIdWindowSeconds?: number;
  /**
   * How long a handler may run before its delivery is answered 500 (Keplars retries), in seconds. The
   * event stays held, its hold renewed, until every handler has finished, so a retry never starts a
   * second copy; a crashed instance's hold ends after this time. At most 2,147,483 (about 24.8 days).
   * @default 60
   */
  lockSeconds?: number;
  /**
   * Where the marks live: `'memory'` (one instance), `{ redis: … }` or `{ postgres: … }` (several
   * instances), `{ pglite: … }` (one instance, durable, nothing to install), or your own
   * {@link KeplarsIdempotencyStore}. Transactional handlers need `postgres` or `pglite`.
   * @default 'memory' (in queue mode: the queue's own Redis or Postgres)
   */
  store?: 'memory' | KeplarsRedisStoreOptions | KeplarsPostgresStoreOptions | KeplarsPGliteStoreOptions | KeplarsIdempotencyStore;
  /**
   * The most events the memory store remembers; beyond it, the oldest are forgotten first. Its
   * memory is allocated once (about 7 MB for the default), so it stays flat however many events arrive.
   * @default 100000
   */
  maxEvents?: number;
}

/**
 * The Redis store for deduplication marks, shared by every instance of the app: the value of
 * `deduplication.store` for several instances. Needs the `ioredis` package.
 *
 * @example
 * deduplication: { store: { redis: process.env.REDIS_URL, keyPrefix: 'shop:keplars:' } }
 */
export interface KeplarsRedisStoreOptions {
  /**
   * A Redis URL (`redis://user:pass@host:6379/0`), for which the module opens and closes its own
   * connection, or an `ioredis` client your app already has, which it uses and leaves open.
   * Needs the `ioredis` package. `undefined` (an unset `process.env.REDIS_URL`) stops the app at startup.
   */
  redis: string | KeplarsRedisClient | undefined;
  /** Prefix of every key written. @default 'keplars:webhook:' */
  keyPrefix?: string;
  /** How long a Redis call may take before the delivery is answered 503, in ms. @default 2000 */
  operationTimeoutMs?: number;
}

/** What the Postgres and PGlite stores share (SPEC §4b). */
export interface KeplarsSqlStoreSettings {
  /** The schema of the store's tables (created if missing). @default 'keplars_webhook' */
  schema?: string;
  /**
   * `'startup'`: the module brings the tables to its version when the app starts, under an advisory
   * lock (instances starting together migrate once). `'manual'`: it only checks them, and refuses to
   * start if they are behind; run `npx keplars-webhook migrate --database-url <url>` on deploy.
   * @default 'startup'
   */
  migrations?: 'startup' | 'manual';
  /** How long one store statement may take before the delivery is answered 503, in ms. @default 2000 */
  operationTimeoutMs?: number;
  /** How often marks past their window are deleted (by the store itself: no cron of yours), in seconds. @default 300 */
  pruneIntervalSeconds?: number;
}

/**
 * The marks in Postgres: shared by every instance, and needed by transactional handlers, whose writes
 * and marks commit together. Give it your app's own `pg` `Pool` or TypeORM `DataSource`, so that the
 * marks and your tables share one database (and one pool), or a connection string.
 *
 * @example
 * KeplarsWebhookModule.forRootAsync({
 *   inject: [DataSource],
 *   useFactory: (dataSource: DataSource) => ({ secret, deduplication: { store: { postgres: dataSource } } }),
 * })
 */
export interface KeplarsPostgresStoreOptions extends KeplarsSqlStoreSettings {
  /**
   * A connection string (`postgres://user:pass@host:5432/db`; the store opens a pool of its own),
   * your app's `pg` `Pool` (transactional handlers get a `PoolClient`), or your TypeORM `DataSource`
   * of type `postgres` (they get an `EntityManager`).
   */
  postgres: string | KeplarsPgPool | KeplarsTypeOrmDataSource | undefined;
}

/**
 * The marks in PGlite: Postgres compiled to WASM, in this process (`@electric-sql/pglite`). Durable
 * marks and transactional handlers for one instance, with nothing to install. The first open of a new
 * data folder runs initdb and takes a few seconds; later opens under one.
 */
export interface KeplarsPGliteStoreOptions extends KeplarsSqlStoreSettings {
  /** A data folder (created if missing), `'memory://'` (nothing kept), or your own `PGlite` instance (transactional handlers get its `Transaction`). */
  pglite: string | KeplarsPGlite;
}

/**
 * Options that shape the route itself. They are read when the module is imported, so they sit beside
 * `useFactory` in `forRootAsync()`, not in what it returns.
 */
export interface KeplarsWebhookRouteOptions {
  /**
   * The endpoint's name, when the module is imported several times (one import per Keplars account):
   * events carry it as `event.endpoint`, `@OnKeplarsEvent(type, { endpoint })` filters on it, and
   * deduplication is kept apart per endpoint. Letters, digits, `-` and `_`.
   * @default 'default'
   */
  name?: string;
  /**
   * The path Keplars posts to (a global prefix still applies). Each import needs its own; with
   * `tenants`, it holds the tenant parameter, e.g. `/webhooks/keplars/:tenant`.
   * @default '/webhooks/keplars'
   */
  path?: string;
  /**
   * Decorators put on the webhook route handler, as if written above it: mark it public for a global
   * auth guard, or let it skip a global throttler.
   * @example routeDecorators: [Public(), SkipThrottle()]
   * @default []
   */
  routeDecorators?: readonly MethodDecorator[];
}

/**
 * The valid keys of each options object, declared once. The startup check refuses any other key and
 * lists these; `satisfies` makes the compiler insist that each list names every key of its interface,
 * so a new option is added to its interface and here, and nowhere else.
 */
export const KEPLARS_OPTION_KEYS = {
  options: {
    secret: true,
    tenants: true,
    signatureHeader: true,
    timestamp: true,
    maxBodyBytes: true,
    deduplication: true,
    emitEvents: true,
    queue: true,
    ledger: true,
  } satisfies Record<keyof KeplarsWebhookOptions, true>,
  ledger: { retentionDays: true, suppressions: true, pruneIntervalSeconds: true } satisfies Record<keyof KeplarsLedgerOptions, true>,
  'ledger.suppressions': { softBounces: true, expireAfterDays: true, shared: true } satisfies Record<keyof KeplarsSuppressionOptions, true>,
  tenants: { resolveSecret: true, parameter: true, cacheSeconds: true, maxCachedTenants: true, maxLookupsPerSecond: true, timeoutMs: true } satisfies Record<keyof KeplarsTenantOptions, true>,
  timestamp: { header: true, toleranceSeconds: true } satisfies Record<keyof KeplarsTimestampOptions, true>,
  deduplication: { windowSeconds: true, derivedIdWindowSeconds: true, lockSeconds: true, store: true, maxEvents: true } satisfies Record<keyof KeplarsDeduplicationOptions, true>,
  'deduplication.store': { redis: true, keyPrefix: true, operationTimeoutMs: true } satisfies Record<keyof KeplarsRedisStoreOptions, true>,
  'deduplication.store.postgres': { postgres: true, schema: true, migrations: true, operationTimeoutMs: true, pruneIntervalSeconds: true } satisfies Record<keyof KeplarsPostgresStoreOptions, true>,
  'deduplication.store.pglite': { pglite: true, schema: true, migrations: true, operationTimeoutMs: true, pruneIntervalSeconds: true } satisfies Record<keyof KeplarsPGliteStoreOptions, true>,
  queue: {
    redis: true,
    postgres: true,
    schema: true,
    role: true,
    prefix: true,
    attempts: true,
    backoff: true,
    concurrency: true,
    stalledSeconds: true,
    operationTimeoutMs: true,
  } satisfies Record<keyof KeplarsQueueOptions, true>,
  'queue.backoff': { delaySeconds: true, jitter: true } satisfies Record<keyof NonNullable<KeplarsQueueOptions['backoff']>, true>,
  route: { name: true, path: true, routeDecorators: true } satisfies Record<keyof KeplarsWebhookRouteOptions, true>,
  forRootAsync: {
    useFactory: true,
    inject: true,
    imports: true,
    useClass: true,
    useExisting: true,
    provideInjectionTokensFrom: true,
    name: true,
    path: true,
    routeDecorators: true,
  } satisfies Record<keyof ConfigurableModuleAsyncOptions<KeplarsWebhookOptions> | keyof KeplarsWebhookRouteOptions, true>,
} as const;
