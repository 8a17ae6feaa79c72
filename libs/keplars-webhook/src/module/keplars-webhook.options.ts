import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import type { KeplarsRedisClient } from '../5-deduplicate/redis-idempotency.store.js';
import type { KeplarsQueueOptions } from '../queue/keplars-queue.options.js';

export type { KeplarsQueueOptions, KeplarsQueueRole } from '../queue/keplars-queue.options.js';

/**
 * Options of `KeplarsWebhookModule.forRoot()`, or what a `forRootAsync()` factory returns.
 *
 * @example
 * KeplarsWebhookModule.forRoot({ secret: [process.env.KEPLARS_SECRET_NEW, process.env.KEPLARS_SECRET_OLD] })
 */
export interface KeplarsWebhookOptions {
  /**
   * The webhook signing secret from the Keplars dashboard. A list accepts a request signed with any
   * one of them, for rotating the secret without downtime. `undefined` is accepted by the type, so an
   * app can pass `process.env.KEPLARS_WEBHOOK_SECRET` as it is; the module then refuses to start and
   * says which variable to set.
   */
  secret: string | readonly (string | undefined)[] | undefined;
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
   * Also emit every event on `@nestjs/event-emitter` as `keplars.<type>` (e.g. `keplars.email.opened`)
   * when the app imports `EventEmitterModule`. Without that module this does nothing.
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
}

export interface KeplarsTimestampOptions {
  /** The header carrying the Unix time (seconds) of signing. @default 'x-keplars-timestamp' */
  header?: string;
  /** How far the timestamp may be from this server's clock, in either direction. @default 300 */
  toleranceSeconds?: number;
}

export interface KeplarsDeduplicationOptions {
  /** How long a handled event is remembered, in seconds. @default 86400 (24 h) */
  windowSeconds?: number;
  /**
   * How long one delivery may hold an event before another delivery may take it over, in seconds:
   * the longest your handlers may take. A crashed instance's hold ends after this time.
   * @default 60
   */
  lockSeconds?: number;
  /**
   * Where the marks live: `'memory'` (one instance), `{ redis: … }` (several instances), or your own
   * {@link KeplarsIdempotencyStore}.
   * @default 'memory'
   */
  store?: 'memory' | KeplarsRedisStoreOptions | KeplarsIdempotencyStore;
  /**
   * The most events the memory store remembers; beyond it, the oldest are forgotten first. Its
   * memory is allocated once (about 7 MB for the default), so it stays flat however many events arrive.
   * @default 100000
   */
  maxEvents?: number;
}

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

/**
 * Options that shape the route itself. They are read when the module is imported, so they sit beside
 * `useFactory` in `forRootAsync()`, not in what it returns.
 */
export interface KeplarsWebhookRouteOptions {
  /** The path Keplars posts to (a global prefix still applies). @default '/webhooks/keplars' */
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
    signatureHeader: true,
    timestamp: true,
    maxBodyBytes: true,
    deduplication: true,
    emitEvents: true,
    queue: true,
  } satisfies Record<keyof KeplarsWebhookOptions, true>,
  timestamp: { header: true, toleranceSeconds: true } satisfies Record<keyof KeplarsTimestampOptions, true>,
  deduplication: { windowSeconds: true, lockSeconds: true, store: true, maxEvents: true } satisfies Record<keyof KeplarsDeduplicationOptions, true>,
  'deduplication.store': { redis: true, keyPrefix: true, operationTimeoutMs: true } satisfies Record<keyof KeplarsRedisStoreOptions, true>,
  queue: {
    redis: true,
    role: true,
    prefix: true,
    attempts: true,
    backoff: true,
    concurrency: true,
    stalledSeconds: true,
    operationTimeoutMs: true,
  } satisfies Record<keyof KeplarsQueueOptions, true>,
  'queue.backoff': { delaySeconds: true, jitter: true } satisfies Record<keyof NonNullable<KeplarsQueueOptions['backoff']>, true>,
  route: { path: true, routeDecorators: true } satisfies Record<keyof KeplarsWebhookRouteOptions, true>,
  forRootAsync: {
    useFactory: true,
    inject: true,
    imports: true,
    useClass: true,
    useExisting: true,
    provideInjectionTokensFrom: true,
    path: true,
    routeDecorators: true,
  } satisfies Record<keyof ConfigurableModuleAsyncOptions<KeplarsWebhookOptions> | keyof KeplarsWebhookRouteOptions, true>,
} as const;
