// The names under which the module reports, one place for code, tests and the README's table. They
// follow OpenTelemetry's semantic conventions (dotted lower case, units in UCUM, durations in seconds,
// counters without `_total`, which the Prometheus exporter appends), under the `keplars.webhook.` prefix.

export const METER_NAME = 'nestjs-keplars-webhook';

export const METRIC = {
  /** Counter: every request that reached the module, by outcome (and refusal reason, event type). */
  deliveries: 'keplars.webhook.deliveries',
  /** Histogram (s): time from the signature check to the answer, by outcome. */
  requestDuration: 'keplars.webhook.request.duration',
  /** Histogram (s): one handler's run on one event, by handler, outcome and event type; its count is the runs. */
  handlerDuration: 'keplars.webhook.handler.duration',
  /** Gauge (s): time since the last correctly signed delivery, per endpoint (since startup, before the first). */
  signedDeliveryAge: 'keplars.webhook.signed_delivery.age',
  /** Gauge: queue mode's jobs by state (waiting, active, delayed, dead_letter). */
  queueJobs: 'keplars.webhook.queue.jobs',
  /** Gauge (s): how long the oldest waiting job has waited. */
  queueOldestWaitingAge: 'keplars.webhook.queue.oldest_waiting.age',
} as const;

export const SPAN = {
  /** One per request that reached the module. */
  delivery: 'keplars.webhook.delivery',
  /** One per handler run, a child of its delivery; the handler's name follows. */
  handler: 'keplars.webhook.handler',
  /** Queue mode: one per attempt of a worker at a queued delivery, in the trace of the request that queued it. */
  process: 'keplars.webhook.process',
} as const;

export const ATTRIBUTE = {
  outcome: 'keplars.webhook.outcome',
  /** The endpoint (`name` of the module import) that received the request: one series per Keplars account. Tenants are not an attribute: too many. */
  endpoint: 'keplars.webhook.endpoint',
  refusalReason: 'keplars.webhook.refusal.reason',
  eventType: 'keplars.webhook.event.type',
  /** Spans only: an id per event would make a metric series per event. */
  eventId: 'keplars.webhook.event.id',
  handler: 'keplars.webhook.handler.name',
  handlerOutcome: 'keplars.webhook.handler.outcome',
  /** Queue mode: which attempt of the worker this is, from 1. */
  attempt: 'keplars.webhook.attempt',
  queueState: 'keplars.webhook.queue.state',
  /** OpenTelemetry's own: the failing error's class name, on a failed handler's span. */
  errorType: 'error.type',
} as const;

/** How a request through the module ended: `keplars.webhook.outcome`. */
export type DeliveryOutcomeName =
  | 'handled'
  /** Valid and new, but no handler (or `@OnEvent` listener) takes its type: answered 200. */
  | 'no_handler'
  | 'duplicate'
  | 'in_progress'
  | 'refused'
  | 'handler_failed'
  | 'store_unavailable'
  | 'queued'
  | 'quarantined'
  | 'queue_unavailable'
  | 'internal_error';

/**
 * Why the module refused a request (SPEC §3): `keplars.webhook.refusal.reason`. `tenant_secret`: on a
 * route with `tenants`, the tenant's secret could not be looked up (answered 503). An unknown tenant
 * counts as `signature`, as it is answered.
 */

/** Bucket bounds in seconds, as OpenTelemetry's HTTP conventions advise for request durations. */
export const DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
