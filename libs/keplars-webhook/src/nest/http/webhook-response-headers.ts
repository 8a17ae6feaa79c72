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

/** Express's `response` and Fastify's `reply` both have `header(name, value)`. */
interface HeaderTarget {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

export function setResponseHeader(response: unknown, name: string, value: string): void {
  const target = response as HeaderTarget;
  if (typeof target.header === 'function') target.header(name, value);
  else target.setHeader?.(name, value);
}

/** Marks an answer as the module's own refusal, then hands back the exception to throw. */
export function refusal<E extends Error>(response: unknown, exception: E): E {
  setResponseHeader(response, REFUSED_HEADER, '1');
  return exception;
}
