import { rawBodyOf, type QueuedDelivery } from '../ports/queued-delivery.js';
import { parseWebhookJson } from '../2-read/unreadable-json-body.js';
import { validateKeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { DEFAULT_ENDPOINT, type KeplarsEvent } from '../0-event/keplars-event.js';
import { normalizeKeplarsPayload } from '../3-normalize/normalize-keplars-payload.js';
import type { DeliveryOutcome, KeplarsEventDelivery } from './keplars-event-delivery.js';

/** What a worker made of one queued delivery. */
export type QueuedDeliveryResult =
  | { readonly kind: 'unreadable'; readonly messages: readonly string[] }
  | { readonly kind: 'delivered'; readonly event: KeplarsEvent; readonly outcome: DeliveryOutcome };

/**
 * A worker's way through the pipeline for one queued delivery: the same steps as the inline route
 * takes after the signature check, from the exact bytes that were signed. The signature was checked
 * when the delivery was received; only verified deliveries are ever written to the queue.
 */
export async function processQueuedDelivery(delivery: QueuedDelivery, dispatch: Pick<KeplarsEventDelivery, 'deliver'>): Promise<QueuedDeliveryResult> {
  const body = parseWebhookJson(rawBodyOf(delivery)); // as the route read it: not JSON is unreadable, with the same reason
  const validation = validateKeplarsPayload(body); // 3. validated
  if (!validation.valid) return { kind: 'unreadable', messages: validation.messages };
  const source = { endpoint: delivery.endpoint ?? DEFAULT_ENDPOINT, tenant: delivery.tenant };
  const event = normalizeKeplarsPayload(validation.payload, new Date(delivery.receivedAt), source); // 4. normalised, from the endpoint (and tenant) that received it
  return { kind: 'delivered', event, outcome: await dispatch.deliver(event) }; // 5-6. deduplicated, dispatched
}
