/**
 * Headers the module adds to its answers, so that what answered can be told from outside (SPEC §6).
 * Documented in the README; the sender (`keplars-webhook-send`) reads both.
 */

/**
 * On every answer the module itself refuses (401, 400, 409, 413, 415, 500, 503): `1`, never the
 * reason. A refusal without it came from the app around the module (a global guard, a throttler, a
 * body parser), before the webhook module ran.
 */
export const REFUSED_HEADER = 'x-keplars-webhook-refused';

/**
 * On a 2xx answer, outside production (`NODE_ENV !== 'production'`): how many handlers ran for the
 * event, so a handler that is never found (its service left out of `providers`) does not look like
 * success. Off in production: it would tell anyone how the app is wired.
 */
export const HANDLERS_HEADER = 'x-keplars-webhook-handlers';
