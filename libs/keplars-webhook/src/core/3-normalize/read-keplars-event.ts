import type { KeplarsEvent, KeplarsEventSource } from '../0-event/keplars-event.js';
import { validateKeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { normalizeKeplarsPayload } from './normalize-keplars-payload.js';

/** What a signed body reads as: the canonical event, or why it is not one (a message per problem). */
export type ReadEvent = { readonly event: KeplarsEvent; readonly unreadable?: undefined } | { readonly event?: undefined; readonly unreadable: readonly string[] };

/**
 * Steps 2 and 3 for a body that passed the signature check: validated against the DTO, then
 * normalised to the canonical event, marked with the endpoint (and tenant) that received it. The one
 * way a body becomes an event: the inline route, queue mode's receiver and its workers all read
 * through here, so they cannot read one body two ways.
 *
 * @param receivedAt stands in for a payload's missing timestamp (default: now).
 */
export function readKeplarsEvent(body: unknown, source: KeplarsEventSource, receivedAt?: Date): ReadEvent {
  const validation = validateKeplarsPayload(body);
  if (!validation.valid) return { unreadable: validation.messages };
  return { event: normalizeKeplarsPayload(validation.payload, receivedAt, source) };
}
