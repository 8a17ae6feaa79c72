// Tokens and keys are registered globally (Symbol.for, plain strings), not made per copy of the code:
// an app can load both the ES module and the CommonJS build of this package (its own require() and a
// library's import), and each copy must find what the other registered.

/** The resolved, checked options (see `resolveKeplarsOptions`). */
export const KEPLARS_OPTIONS = Symbol.for('nestjs-keplars-webhook:options');

/** The idempotency store in use, or `undefined` with deduplication off. */
export const KEPLARS_IDEMPOTENCY_STORE = Symbol.for('nestjs-keplars-webhook:idempotency-store');

/** The telemetry in use: OpenTelemetry's when `@opentelemetry/api` is installed, else `NoTelemetry`. */
export const KEPLARS_TELEMETRY = Symbol.for('nestjs-keplars-webhook:telemetry');

/** Queue mode's receiving side (the core's `DeliveryQueue` port), or `undefined` where this app receives nothing. */
export const KEPLARS_DELIVERY_QUEUE = Symbol.for('nestjs-keplars-webhook:delivery-queue');

/** Every log line of the module carries this context. */
export const LOG_CONTEXT = 'KeplarsWebhook';
/** Queue mode's BullMQ queue, worker and connections, or `undefined` in inline mode. */
export const KEPLARS_QUEUE_RUNTIME = Symbol.for('nestjs-keplars-webhook:queue-runtime');

/** This import's route: its endpoint name, path and decorators (see `resolveRoute`). */
export const KEPLARS_ROUTE = Symbol('KEPLARS_ROUTE');

/** This import's email ledger (SPEC §8), or `undefined` when `ledger` is off. */
export const KEPLARS_EMAIL_LEDGER = Symbol.for('nestjs-keplars-webhook:email-ledger');
