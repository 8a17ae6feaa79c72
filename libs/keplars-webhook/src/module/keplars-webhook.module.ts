import { Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { KeplarsSignatureGuard } from '../2-verify/keplars-signature.guard.js';
import { createIdempotencyStore } from '../5-deduplicate/create-idempotency-store.js';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import { KeplarsEventDelivery } from '../6-dispatch/keplars-event-delivery.js';
import { KeplarsHandlerRegistry } from '../6-dispatch/keplars-handler-registry.js';
import { KeplarsHandlerExplorer } from '../6-dispatch/keplars-handler.explorer.js';
import { KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS, LOG_CONTEXT } from './keplars-webhook.constants.js';
import {
  KEPLARS_MODULE_OPTIONS,
  KEPLARS_OPTIONS_TYPE,
  KeplarsWebhookConfigurableModule,
} from './keplars-webhook.module-definition.js';
import type { KeplarsWebhookOptions } from './keplars-webhook.options.js';
import { RawBodyCheck } from './raw-body.check.js';
import { createDeliveryTelemetry } from '../observe/create-delivery-telemetry.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../observe/delivery-telemetry.js';
import { KEPLARS_HEALTH_PROBES, KeplarsHealthIndicator } from '../observe/keplars-health.indicator.js';
import { SignedDeliveryClock } from '../observe/signed-delivery-clock.js';
import { resolveKeplarsOptions, type ResolvedKeplarsOptions } from './resolve-keplars-options.js';

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
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: KEPLARS_OPTIONS,
      useFactory: (options: KeplarsWebhookOptions) => resolveKeplarsOptions(options),
      inject: [KEPLARS_MODULE_OPTIONS],
    },
    {
      provide: KEPLARS_IDEMPOTENCY_STORE,
      useFactory: (options: ResolvedKeplarsOptions) =>
        options.deduplication && createIdempotencyStore(options.deduplication, new Logger(LOG_CONTEXT)),
      inject: [KEPLARS_OPTIONS],
    },
    {
      provide: KeplarsEventDelivery,
      useFactory: (registry: KeplarsHandlerRegistry, store: KeplarsIdempotencyStore | undefined, options: ResolvedKeplarsOptions) =>
        new KeplarsEventDelivery(registry, store, options.deduplication ?? { windowMs: 0, lockMs: 60_000 }),
      inject: [KeplarsHandlerRegistry, KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS],
    },
    {
      provide: KeplarsHandlerRegistry,
      useFactory: (telemetry: DeliveryTelemetry) => new KeplarsHandlerRegistry((handler) => telemetry.instrumentHandler(handler)),
      inject: [KEPLARS_TELEMETRY],
    },
    // Operations, beside the pipeline: metrics and spans (with @opentelemetry/api), health.
    SignedDeliveryClock,
    { provide: KEPLARS_TELEMETRY, useFactory: (clock: SignedDeliveryClock) => createDeliveryTelemetry(clock), inject: [SignedDeliveryClock] },
    { provide: KEPLARS_HEALTH_PROBES, useValue: [] },
    KeplarsHealthIndicator,
    KeplarsHandlerExplorer,
    KeplarsSignatureGuard,
    RawBodyCheck,
  ],
  exports: [KeplarsHealthIndicator],
})
export class KeplarsWebhookModule extends KeplarsWebhookConfigurableModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(@Inject(KEPLARS_IDEMPOTENCY_STORE) private readonly store: KeplarsIdempotencyStore | undefined) {
    super();
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
    return super.forRoot(options);
  }

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

  async onApplicationShutdown(): Promise<void> {
    await this.store?.close?.();
  }
}
