import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { KeplarsSignatureGuard } from '../http/keplars-signature.guard.js';
import { createIdempotencyStore } from './create-idempotency-store.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { RedisIdempotencyStore } from '../../adapters/redis-store/redis-idempotency.store.js';
import { KeplarsEventDelivery } from '../../core/4-deliver/keplars-event-delivery.js';
import { KeplarsHandlerRegistry } from '../../core/4-deliver/keplars-handler-registry.js';
import { KeplarsDeadLetters } from '../../adapters/bullmq-queue/keplars-dead-letters.js';
import { KeplarsDeliveryQueue, type HandledMarkOf } from '../../adapters/bullmq-queue/keplars-delivery-queue.js';
import { PostgresDeliveryQueue } from '../../adapters/bullmq-queue/postgres-delivery-queue.js';
import type { DeliveryQueue } from '../../core/ports/delivery-queue.js';
import { KEPLARS_QUEUE, receives } from '../../adapters/bullmq-queue/keplars-queue.options.js';
import { KeplarsQueueRuntime } from '../../adapters/bullmq-queue/keplars-queue-runtime.js';
import { QueueHealthProbe, readQueueBacklog } from '../../adapters/bullmq-queue/queue-backlog.js';
import { KeplarsQueueLifecycle } from './keplars-queue.lifecycle.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KeplarsEndpoints } from '../options/keplars-endpoints.js';
import { KeplarsHandlersModule } from './keplars-handlers.module.js';
import { KEPLARS_EMAIL_LEDGER, KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS, KEPLARS_QUEUE_RUNTIME, KEPLARS_ROUTE, KEPLARS_DELIVERY_QUEUE } from '../options/keplars-webhook.constants.js';
import {
  KEPLARS_ASYNC_OPTIONS_TYPE,
  KEPLARS_MODULE_OPTIONS,
  KEPLARS_OPTIONS_TYPE,
  KeplarsWebhookConfigurableModule,
} from './keplars-webhook.module-definition.js';
import type { KeplarsWebhookOptions } from '../options/keplars-webhook.options.js';
import { KEPLARS_HEALTH_PROBES, KeplarsHealthIndicator } from '../health/keplars-health.indicator.js';
import { checkForRootAsyncKeys, resolveKeplarsOptions, type ResolvedKeplarsOptions, type ResolvedRoute } from '../options/resolve-keplars-options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { transactionalHandlerProblems } from '../../core/4-deliver/transactional-handlers.js';
import type { EmailLedger } from '../../core/email-ledger/email-ledger.js';
import { createEmailLedger } from './create-email-ledger.js';
import { EmailLedgers } from '../ledger/email-ledgers.js';
import { KeplarsEmailLedger } from '../ledger/keplars-email-ledger.js';

/**
 * Receives Keplars webhooks: mounts `POST /webhooks/keplars`, verifies each request's signature,
 * validates and normalises its payload, deduplicates it, and runs your `@OnKeplarsEvent()` handlers.
 * The app must be created with `{ rawBody: true }`.
 *
 * @example
 * ```ts
 * @Module({ imports: [KeplarsWebhookModule.forRoot(process.env.KEPLARS_WEBHOOK_SECRET)] })
 * export class AppModule {}
 *
 * // with @nestjs/config:
 * KeplarsWebhookModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ secret: config.getOrThrow('KEPLARS_WEBHOOK_SECRET') }),
 * })
 *
 * // several Keplars accounts: import it once per account, each with a name and a path
 * KeplarsWebhookModule.forRoot({ name: 'eu', path: '/webhooks/keplars/eu', secret: process.env.KEPLARS_EU_SECRET }),
 * KeplarsWebhookModule.forRoot({ name: 'us', path: '/webhooks/keplars/us', secret: process.env.KEPLARS_US_SECRET }),
 * ```
 */
@Module({
  imports: [KeplarsHandlersModule],
  providers: [
    {
      provide: KEPLARS_OPTIONS,
      useFactory: (options: KeplarsWebhookOptions, route: ResolvedRoute, endpoints: KeplarsEndpoints) => {
        let resolved: ResolvedKeplarsOptions;
        try {
          resolved = resolveKeplarsOptions(options, route);
        } catch (error) {
          // Say which import is wrong when there are several.
          if (error instanceof KeplarsConfigurationError && endpoints.all().length > 0) {
            throw new KeplarsConfigurationError(error.problems.map((problem) => `endpoint "${route.name}": ${problem}`));
          }
          throw error;
        }
        const clashes = endpoints.add(route, resolved);
        if (clashes.length > 0) throw new KeplarsConfigurationError(clashes);
        return resolved;
      },
      inject: [KEPLARS_MODULE_OPTIONS, KEPLARS_ROUTE, KeplarsEndpoints],
    },
    {
      provide: KEPLARS_IDEMPOTENCY_STORE,
      useFactory: (options: ResolvedKeplarsOptions) =>
        options.deduplication && createIdempotencyStore(options.deduplication, new KeplarsLog()),
      inject: [KEPLARS_OPTIONS],
    },
    {
      provide: KeplarsEventDelivery,
      useFactory: (registry: KeplarsHandlerRegistry, store: KeplarsIdempotencyStore | undefined, options: ResolvedKeplarsOptions) =>
        new KeplarsEventDelivery(registry, store, {
          ...(options.deduplication ?? { windowMs: 0, derivedIdWindowMs: 0, lockMs: 60_000 }),
          markEachHandler: options.queue !== undefined, // a worker can be killed mid-event
        }, new KeplarsLog()),
      inject: [KeplarsHandlerRegistry, KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS],
    },
    // Health, beside the pipeline (this endpoint's store; the telemetry is shared, in KeplarsHandlersModule).
    {
      // Queue mode adds the queue's reachability, backlog and dead letters to the health check.
      provide: KEPLARS_HEALTH_PROBES,
      useFactory: (runtime: KeplarsQueueRuntime | undefined) =>
        runtime ? [new QueueHealthProbe(() => readQueueBacklog(runtime.queue), runtime.options.operationTimeoutMs)] : [],
      inject: [KEPLARS_QUEUE_RUNTIME],
    },
    KeplarsHealthIndicator,
    // Queue mode (SPEC §4a): the BullMQ queue and worker, the dead letters; all undefined or idle inline.
    {
      provide: KEPLARS_QUEUE_RUNTIME,
      // After the store: on one Postgres schema, the store's migration creates it first (under its
      // advisory lock), so BullMQ's own migration never races it to CREATE SCHEMA.
      // If the queue cannot open, the app does not start: close the store's own connections, or they
      // would keep the process alive.
      useFactory: async (options: ResolvedKeplarsOptions, store: KeplarsIdempotencyStore | undefined) => {
        if (!options.queue) return undefined;
        try {
          return await KeplarsQueueRuntime.open(options.queue, new KeplarsLog());
        } catch (error) {
          await store?.close?.().catch(() => undefined);
          throw error;
        }
      },
      inject: [KEPLARS_OPTIONS, KEPLARS_IDEMPOTENCY_STORE],
    },
    {
      provide: KEPLARS_QUEUE,
      useFactory: (runtime: KeplarsQueueRuntime | undefined) => runtime?.queue,
      inject: [KEPLARS_QUEUE_RUNTIME],
    },
    {
      provide: KEPLARS_DELIVERY_QUEUE,
      useFactory: (runtime: KeplarsQueueRuntime | undefined, store: KeplarsIdempotencyStore | undefined, options: ResolvedKeplarsOptions) =>
        runtime && receives(options.queue) ? receivingQueue(runtime, store, options) : undefined,
      inject: [KEPLARS_QUEUE_RUNTIME, KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS],
    },
    {
      provide: KeplarsDeadLetters,
      useFactory: (runtime: KeplarsQueueRuntime | undefined) => new KeplarsDeadLetters(runtime?.queue),
      inject: [KEPLARS_QUEUE_RUNTIME],
    },
    KeplarsQueueLifecycle,
    KeplarsSignatureGuard,
    // The email ledger (SPEC §8): made beside the store, its handler added to the shared registry
    // before the handlers are explored (so @OnAddressSuppressed() finds it).
    {
      provide: KEPLARS_EMAIL_LEDGER,
      useFactory: async (options: ResolvedKeplarsOptions, store: KeplarsIdempotencyStore | undefined, route: ResolvedRoute, registry: KeplarsHandlerRegistry, ledgers: EmailLedgers) => {
        if (!options.ledger || !store) return undefined;
        const ledger = await createEmailLedger(route.name, store, options.ledger, new KeplarsLog());
        ledgers.add(ledger);
        registry.add(ledger.handler());
        return ledger;
      },
      inject: [KEPLARS_OPTIONS, KEPLARS_IDEMPOTENCY_STORE, KEPLARS_ROUTE, KeplarsHandlerRegistry, EmailLedgers],
    },
    // What the app injects; every import gives one over the same ledgers.
    { provide: KeplarsEmailLedger, useFactory: (ledgers: EmailLedgers) => new KeplarsEmailLedger(ledgers), inject: [EmailLedgers] },
  ],
  exports: [KeplarsHealthIndicator, KEPLARS_QUEUE, KeplarsDeadLetters, KeplarsEmailLedger],
})
export class KeplarsWebhookModule extends KeplarsWebhookConfigurableModule implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new KeplarsLog();

  /** @internal Nest builds the module; apps import it with `forRoot()` or `forRootAsync()`. */
  constructor(
    @Inject(KEPLARS_IDEMPOTENCY_STORE) private readonly store: KeplarsIdempotencyStore | undefined,
    @Inject(KEPLARS_ROUTE) private readonly route: ResolvedRoute,
    private readonly registry: KeplarsHandlerRegistry,
    @Inject(KEPLARS_EMAIL_LEDGER) private readonly ledger: EmailLedger | undefined,
  ) {
    super();
  }

  /**
   * Refuses to start when a transactional handler of this endpoint cannot run on its store (the
   * handlers were found by then: the shared handlers module initialises first).
   * @internal A Nest lifecycle hook: Nest calls it, apps never do.
   */
  onModuleInit(): void {
    const handlers = this.registry.all().filter((handler) => handler.subscriptions?.some((subscription) => subscription.endpoints === undefined || subscription.endpoints.includes(this.route.name)) ?? true);
    const problems = transactionalHandlerProblems(handlers, this.store, this.route.name);
    if (problems.length > 0) throw new KeplarsConfigurationError(problems);
  }

  /**
   * Imports the module with a secret (or a list of secrets, for rotation), or with all options.
   *
   * @example KeplarsWebhookModule.forRoot(process.env.KEPLARS_WEBHOOK_SECRET)
   * @example KeplarsWebhookModule.forRoot({ secret, path: '/hooks/keplars', deduplication: { store: { redis: process.env.REDIS_URL } } })
   */
  static override forRoot(secretOrOptions: string | readonly string[] | typeof KEPLARS_OPTIONS_TYPE | undefined): DynamicModule {
    const options =
      typeof secretOrOptions === 'object' && secretOrOptions !== null && !Array.isArray(secretOrOptions)
        ? (secretOrOptions as typeof KEPLARS_OPTIONS_TYPE)
        : ({ secret: secretOrOptions } as typeof KEPLARS_OPTIONS_TYPE);
    const module = super.forRoot(options);
    // A worker-only app mounts no route (with forRootAsync, the route answers 404 instead).
    return options.queue?.role === 'process' ? { ...module, controllers: [] } : module;
  }

  /**
   * Imports the module with options from a factory, a class or an existing provider, the way Nest's
   * own dynamic modules take them. `imports` must make the factory's `inject` resolvable.
   *
   * @example KeplarsWebhookModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config: ConfigService) => ({ secret: config.getOrThrow('KEPLARS_WEBHOOK_SECRET') }) })
   */
  static override forRootAsync(options: typeof KEPLARS_ASYNC_OPTIONS_TYPE): DynamicModule {
    checkForRootAsyncKeys(options);
    return super.forRootAsync(options);
  }

  /**
   * Checks, once at startup, that the deduplication store answers, and logs an error saying webhooks
   * are answered 503 until it does. It never stops the app.
   * @internal A Nest lifecycle hook: Nest calls it, apps never do.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.store?.ping) return;
    try {
      await this.store.ping();
    } catch (error) {
      this.logger.error(
        `Deduplication store check failed at startup (${(error as Error).message}): webhooks are answered 503 until it is reachable.`,
      );
    }
  }

  /**
   * Closes the connections the deduplication store opened itself (a Redis URL's); a client your app
   * passed in is left for your app to close.
   * @internal A Nest lifecycle hook: Nest calls it, apps never do.
   */
  async onApplicationShutdown(): Promise<void> {
    this.ledger?.close();
    await this.store?.close?.();
  }
}

/** The receivers' side of the queue, on the queue's server: Redis (with its one-script check) or Postgres. */
function receivingQueue(runtime: KeplarsQueueRuntime, store: KeplarsIdempotencyStore | undefined, options: ResolvedKeplarsOptions): DeliveryQueue {
  const headerNames = [options.signatureHeader, ...(options.timestamp ? [options.timestamp.header] : []), 'content-type'];
  const timeoutMs = runtime.options.operationTimeoutMs;
  if (runtime.connection === undefined) return new PostgresDeliveryQueue(runtime.queue, headerNames, store, timeoutMs);
  return new KeplarsDeliveryQueue(runtime.queue, headerNames, runtime.connection, store, timeoutMs, handledMarkOnQueueRedis(store, options));
}

/**
 * How the receivers' duplicate check finds an event's "handled" mark in the queue's own Redis, so one
 * script reads it beside the job's key: only when the store is the Redis store on that same server
 * (`deduplication.store` left out, or naming the same URL or client as `queue.redis`).
 */
function handledMarkOnQueueRedis(store: KeplarsIdempotencyStore | undefined, options: ResolvedKeplarsOptions): HandledMarkOf | undefined {
  const dedup = options.deduplication?.store;
  if (!(store instanceof RedisIdempotencyStore) || dedup?.kind !== 'redis' || dedup.options.redis !== options.queue?.redis) return undefined;
  return (eventKey) => store.handledMark(eventKey);
}
