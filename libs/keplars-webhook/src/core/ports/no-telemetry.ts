import type { KeplarsEvent } from '../0-event/keplars-event.js';
import type { DeliveryTelemetry, QueuedAttempt } from './delivery-telemetry.js';
import type { DeliveryOutcome } from '../0-event/delivery-outcome.js';
import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';

/**
 * Without `@opentelemetry/api`: nothing is measured, nothing wrapped. A class, one instance per app, and
 * never a frozen object: it is a provider, and instrumentation that wraps providers in Proxies (the
 * `@nestjs/observe` that NestJS 12's starter wires in) must be able to hand out its own version of each
 * method, which a frozen object's read-only properties forbid ("'get' on proxy: property … is a
 * read-only and non-configurable data property").
 */
export class NoTelemetry implements DeliveryTelemetry {
  received(): void {}
  refused(): void {}
  deliver(_request: object, _event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): DeliveryOutcome | Promise<DeliveryOutcome> {
    return run();
  }
  instrumentHandler(handler: KeplarsEventHandler): KeplarsEventHandler {
    return handler;
  }
  traceparent(): string | undefined {
    return undefined;
  }
  written(): void {}
  async process(_attempt: QueuedAttempt, _event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    return run();
  }
  observeQueue(): void {}
}
