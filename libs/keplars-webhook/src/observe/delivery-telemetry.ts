import type { KeplarsEvent } from '../4-normalize/keplars-event.js';
import type { DeliveryOutcome } from '../6-dispatch/keplars-event-delivery.js';
import type { KeplarsEventHandler } from '../6-dispatch/keplars-handler-registry.js';
import type { RefusalReason } from './telemetry-names.js';

/** The telemetry in use: OpenTelemetry's when `@opentelemetry/api` is installed, else {@link NO_TELEMETRY}. */
export const KEPLARS_TELEMETRY = Symbol('KEPLARS_TELEMETRY');

/**
 * What the module reports about a request, observed from the steps' outcomes rather than threaded
 * through them: the guard says when a request arrives and why it is refused, the controller hands
 * over the delivery to run, and the handler registry lets each handler be wrapped once at startup.
 * `request` is the framework's request object, used only as the key that ties those calls together.
 */
export interface DeliveryTelemetry {
  /** A request reached the module (its signature check is about to run). */
  received(request: object): void;
  /** The module refused the request: answered 401, 400, 413 or 415 without running a handler. */
  refused(request: object, reason: RefusalReason): void;
  /** Runs the delivery of a verified event and reports how it ended. */
  deliver(request: object, event: KeplarsEvent, run: () => Promise<DeliveryOutcome>): Promise<DeliveryOutcome>;
  /** The handler as it will be called: each run timed, and a child span of its delivery. */
  instrumentHandler(handler: KeplarsEventHandler): KeplarsEventHandler;
}

/** Without `@opentelemetry/api`: nothing is measured, nothing wrapped, nothing allocated. */
export const NO_TELEMETRY: DeliveryTelemetry = Object.freeze({
  received() {},
  refused() {},
  deliver: (_request: object, _event: KeplarsEvent, run: () => Promise<DeliveryOutcome>) => run(),
  instrumentHandler: (handler: KeplarsEventHandler) => handler,
});
