import type { QueuedDelivery } from './queued-delivery.js';
/** How far behind the workers are: what the queue's metrics and its health check read. */
export interface QueueBacklog {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  /** Deliveries that ran out of attempts, or could not be read: they wait for a replay. */
  readonly deadLetters: number;
  /** Seconds the oldest waiting delivery has waited (0 when none waits). */
  readonly oldestWaitingAgeSeconds: number;
}

/**
 * Queue mode's receiving side, as the core uses it: a durable queue that takes each verified
 * delivery once. The BullMQ adapter implements it on Redis.
 */
export interface DeliveryQueue {
  /** The request headers to keep with each delivery (lower case): the signature's, the timestamp's, the content type. */
  readonly headerNames: readonly string[];
  /**
   * Writes the delivery down, once per event: `'duplicate'` when the same event (same endpoint,
   * tenant and id) is already queued, running, a dead letter or marked handled; for an unreadable
   * body, when the same bytes are already kept. Resolves only once the queue holds it durably, and
   * rejects when it could not (the receiver then answers 503).
   */
  enqueue(delivery: QueuedDelivery): Promise<'queued' | 'duplicate'>;
}
