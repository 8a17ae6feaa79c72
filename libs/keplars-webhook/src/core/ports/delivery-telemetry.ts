import type { KeplarsEvent } from '../0-event/keplars-event.js';
import type { DeliveryOutcome, RefusalReason, QueueWriteResult } from '../0-event/delivery-outcome.js';
import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';
import type { QueueBacklog } from './delivery-queue.js';

/** What a worker knows of the queued delivery it runs: the trace it was queued in, and which attempt this is. */
export interface QueuedAttempt {
  readonly traceparent?: string;
  readonly attempt: number;
}

/**
 * What the module reports about a request, observed from the steps' outcomes rather than threaded
 * through them: the guard says when a request arrives and why it is refused, the controller hands
 * over the delivery to run, and the handler registry lets each handler be wrapped once at startup.
 * `request` is the framework's request object, used only as the key that ties those calls together.
 */
export interface DeliveryTelemetry {
  /** A request reached the module, on the endpoint named (its signature check is about to run). */
  received(request: object, endpoint?: string): void;
  /** The module refused the request: answered 401, 400, 413 or 415 (503 for `tenant_secret`) without running a handler. */
  refused(request: object, reason: RefusalReason): void;
  /** Runs the delivery of a verified event and reports how it ended (at once, when the delivery ended at once and nothing is measured). */
  deliver(request: object, event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): DeliveryOutcome | Promise<DeliveryOutcome>;
  /** The handler as it will be called: each run timed, and a child span of its delivery. */
  instrumentHandler(handler: KeplarsEventHandler): KeplarsEventHandler;
  /** Queue mode: the request's trace context (W3C `traceparent`), written into the job so its handler spans join the trace. */
  traceparent(request: object): string | undefined;
  /** Queue mode: the receiving side wrote the delivery down (or did not), for the event if it could be read. */
  written(request: object, event: { readonly id: string; readonly type: string } | undefined, result: QueueWriteResult): void;
  /** Queue mode: a worker's attempt at a queued event; its handler spans are children of this attempt's span. */
  process(attempt: QueuedAttempt, event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): Promise<DeliveryOutcome>;
  /** Queue mode: reports the queue's backlog (read when the metrics are collected). */
  observeQueue(read: () => Promise<QueueBacklog>): void;
}
