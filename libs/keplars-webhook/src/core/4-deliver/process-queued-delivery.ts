import { rawBodyOf, type QueuedDelivery } from '../ports/queued-delivery.js';
import { parseWebhookJson } from '../2-read/unreadable-json-body.js';
import { DEFAULT_ENDPOINT, type KeplarsEvent } from '../0-event/keplars-event.js';
import { readKeplarsEvent } from '../3-normalize/read-keplars-event.js';
import type { KeplarsEventDelivery } from './keplars-event-delivery.js';
import type { DeliveryOutcome } from '../0-event/delivery-outcome.js';
import { keplarsEventKey } from './event-key.js';
import type { KeplarsIdempotencyStore } from '../ports/idempotency-store.js';

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
  const source = { endpoint: delivery.endpoint ?? DEFAULT_ENDPOINT, tenant: delivery.tenant };
  const read = readKeplarsEvent(body, source, new Date(delivery.receivedAt)); // read as the receiver read it, from the endpoint (and tenant) that received it
  if (read.event === undefined) return { kind: 'unreadable', messages: read.unreadable };
  return { kind: 'delivered', event: read.event, outcome: await dispatch.deliver(read.event) }; // delivered: deduplicated, dispatched
}

/**
 * Before a retry or a replay, puts back the marks of the handlers that already succeeded, as the job
 * recorded them: the store's own marks may have expired since (a dead letter replayed weeks later).
 */
export async function restoreSucceededMarks(delivery: QueuedDelivery, store: KeplarsIdempotencyStore | undefined, windowMs: number): Promise<void> {
  const { eventId, succeeded } = delivery;
  if (!eventId || !succeeded?.length || !store?.markHandled) return;
  const key = keplarsEventKey(delivery, eventId); // as the delivery keeps it: namespaced by endpoint and tenant
  await Promise.all(succeeded.map((handler) => store.markHandled!(key, handler, windowMs)));
}
