/** The resolved, checked options (see `resolveKeplarsOptions`). */
export const KEPLARS_OPTIONS = Symbol('KEPLARS_OPTIONS');
/** The idempotency store in use, or `undefined` with deduplication off. */
export const KEPLARS_IDEMPOTENCY_STORE = Symbol('KEPLARS_IDEMPOTENCY_STORE');
/** Every log line of the module carries this context. */
export const LOG_CONTEXT = 'KeplarsWebhook';
/** Queue mode's BullMQ queue, worker and connections, or `undefined` in inline mode. */
export const KEPLARS_QUEUE_RUNTIME = Symbol('KEPLARS_QUEUE_RUNTIME');
