import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { BodyEncodingCheck } from '../http/body-encoding.check.js';
import { WebhookRouteBody } from '../http/webhook-route-body.js';
import { KeplarsHandlerRegistry } from '../../core/4-deliver/keplars-handler-registry.js';
import { KeplarsHandlerExplorer } from '../handlers/keplars-handler.explorer.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { RefusalLog } from '../log/refusal-log.js';
import { createDeliveryTelemetry } from '../../adapters/opentelemetry/create-delivery-telemetry.js';
import { type DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';
import { KeplarsEndpoints } from '../options/keplars-endpoints.js';
import { RawBodyCheck } from '../http/raw-body.check.js';
import { KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import { EmailLedgers } from '../ledger/email-ledgers.js';

/**
 * What every import of `KeplarsWebhookModule` shares: one registry of handlers, found and checked
 * once (and wrapped once by the telemetry), the list of endpoints, and the telemetry itself. A static module, so Nest makes one instance of it per app however
 * many times the webhook module is imported; each endpoint then runs each matching handler once.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: KeplarsHandlerRegistry,
      useFactory: (telemetry: DeliveryTelemetry) => new KeplarsHandlerRegistry((handler) => telemetry.instrumentHandler(handler)),
      inject: [KEPLARS_TELEMETRY],
    },
    { provide: KeplarsEndpoints, useFactory: () => new KeplarsEndpoints() },
    // Every endpoint's email ledger, for KeplarsEmailLedger and @OnAddressSuppressed().
    { provide: EmailLedgers, useFactory: () => new EmailLedgers() },
    // Operations, beside the pipeline: metrics and spans (with @opentelemetry/api), one set per app.
    {
      provide: SignedDeliveryClock,
      useFactory: (endpoints: KeplarsEndpoints) => new SignedDeliveryClock(() => endpoints.all().filter((endpoint) => endpoint.receives).map((endpoint) => endpoint.name)),
      inject: [KeplarsEndpoints],
    },
    { provide: KEPLARS_TELEMETRY, useFactory: (clock: SignedDeliveryClock) => createDeliveryTelemetry(clock), inject: [SignedDeliveryClock] },
    KeplarsHandlerExplorer,
    RawBodyCheck,
    // Refusals of unsigned requests, summarised in a flood (every other line goes through KeplarsLog).
    { provide: RefusalLog, useFactory: () => new RefusalLog(new KeplarsLog()) },
    BodyEncodingCheck,
    // Reads the webhook routes' bodies, so the signature is checked before a body that is not JSON is
    // refused; on Fastify, its route hook refuses an encoded body first (BodyEncodingCheck).
    {
      provide: WebhookRouteBody,
      useFactory: (adapterHost: HttpAdapterHost, endpoints: KeplarsEndpoints, refusals: RefusalLog, encodings: BodyEncodingCheck) =>
        new WebhookRouteBody(adapterHost, () => endpoints.all(), refusals, encodings),
      inject: [HttpAdapterHost, KeplarsEndpoints, RefusalLog, BodyEncodingCheck],
    },
  ],
  exports: [KeplarsHandlerRegistry, KeplarsEndpoints, EmailLedgers, KEPLARS_TELEMETRY, SignedDeliveryClock, RefusalLog],
})
export class KeplarsHandlersModule implements OnApplicationShutdown {
  constructor(private readonly refusals: RefusalLog) {}

  onApplicationShutdown(): void {
    this.refusals.flush(); // the summary of refusals not yet logged
  }
}
