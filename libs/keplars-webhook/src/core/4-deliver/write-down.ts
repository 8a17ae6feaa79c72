import type { QueueWriteOutcome } from '../0-event/delivery-outcome.js';
import type { KeplarsEventSource } from '../0-event/keplars-event.js';
import type { DeliveryQueue } from '../ports/delivery-queue.js';
import { recordDelivery, type QueuedDelivery } from '../ports/queued-delivery.js';
import type { ReadEvent } from '../3-normalize/read-keplars-event.js';
import type { IncomingHttpHeaders } from 'node:http';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const QUEUED: QueueWriteOutcome = Object.freeze({ kind: 'queued' });
const DUPLICATE: QueueWriteOutcome = Object.freeze({ kind: 'duplicate' });

/** The verified request, as the receiver has it. */
export interface VerifiedRequest {
  readonly rawBody: Buffer;
  readonly headers: IncomingHttpHeaders;
  /** The W3C trace context to carry into the job (with a tracing SDK), so the workers' spans join the request's trace. */
  readonly traceparent?: string | undefined;
}

/**
 * Queue mode's receiving side (SPEC §4a): the verified request is written down whole, the exact bytes
 * that were signed, so a worker walks the rest of the way from them. It was read
 * ({@link readKeplarsEvent}) for the event's id, which keeps a redelivery from being queued twice; a
 * body that does not read as an event is kept apart as unreadable, not refused: nothing signed is
 * dropped.
 */
export async function writeDown(
  queue: DeliveryQueue,
  request: VerifiedRequest,
  read: ReadEvent,
  source: KeplarsEventSource,
  receivedAt: number,
): Promise<QueueWriteOutcome> {
  // Built in one go: it is built for every request.
  const delivery: Mutable<QueuedDelivery> = recordDelivery(request.rawBody, request.headers, queue.headerNames, receivedAt);
  delivery.endpoint = source.endpoint;
  if (source.tenant !== undefined) delivery.tenant = source.tenant;
  if (request.traceparent) delivery.traceparent = request.traceparent;
  if (read.event !== undefined) {
    delivery.eventId = read.event.id;
    delivery.type = read.event.type;
  } else {
    delivery.unreadable = read.unreadable;
  }
  let written: 'queued' | 'duplicate';
  try {
    written = await queue.enqueue(delivery);
  } catch (error) {
    return { kind: 'queue-unavailable', error };
  }
  if (read.event !== undefined) return written === 'queued' ? QUEUED : DUPLICATE;
  return { kind: 'quarantined', messages: read.unreadable };
}
