import { ConflictException, InternalServerErrorException, ServiceUnavailableException } from '@nestjs/common';
import type { KeplarsEvent } from '../0-event/keplars-event.js';
import type { DeliveryOutcome } from '../4-deliver/keplars-event-delivery.js';
import type { KeplarsLog } from '../../nest/log/keplars-log.js';

/** The body of a 200 answer. */
export interface KeplarsWebhookAnswer {
  /** Always `true`: Keplars got its 2xx, and need not send the event again. */
  readonly received: true;
  /** Present when the event had already been handled: no handler ran this time. */
  readonly duplicate?: true;
  /**
   * Queue mode: the body is signed but the module cannot read it; it is kept as a dead letter
   * (kind `unreadable`) to replay once the module reads it, instead of being refused again and again.
   */
  readonly quarantined?: true;
}

const RECEIVED: KeplarsWebhookAnswer = Object.freeze({ received: true });
const DUPLICATE: KeplarsWebhookAnswer = Object.freeze({ received: true, duplicate: true });
const QUARANTINED: KeplarsWebhookAnswer = Object.freeze({ received: true, quarantined: true });

/** How queue mode's receiving side ended: written down (or found already there), or not at all. */
export type QueueWriteOutcome =
  | { readonly kind: 'queued' | 'duplicate' }
  | { readonly kind: 'quarantined'; readonly messages: readonly string[] }
  | { readonly kind: 'queue-unavailable'; readonly error: unknown };

/**
 * Queue mode's answers (SPEC §4a): 2xx only once Redis has the delivery; 503 when it does not, so
 * Keplars retries.
 */
export function answerQueueWrite(outcome: QueueWriteOutcome, event: Pick<KeplarsEvent, 'id' | 'type'> | undefined, logger: KeplarsLog): KeplarsWebhookAnswer {
  if (outcome.kind === 'queued') return RECEIVED; // the common case: nothing to say, nothing to build
  // Log lines about an event carry its fields; one the module cannot read has none.
  const about = event === undefined ? 'a signed webhook the module cannot read' : `${event.type} ${event.id}`;
  const log = event === undefined ? logger : logger.about(event);
  switch (outcome.kind) {
    case 'duplicate':
      log.debug(`Duplicate of ${about}: already queued or handled, not queued again.`);
      return DUPLICATE;
    case 'quarantined':
      log.warn(`Kept a signed webhook the module cannot read as a dead letter (${outcome.messages.join('; ')}); answered 200. Replay it once the module reads it.`);
      return QUARANTINED;
    case 'queue-unavailable':
      log.error(`Answered 503 to ${about}: it could not be queued (${messageOf(outcome.error)}). Keplars will retry.`);
      throw new ServiceUnavailableException();
  }
}

/**
 * The module's whole error policy (SPEC §3): how a delivery's outcome is answered and logged. Errors
 * answer in Nest's shape without internal detail; the log line says what happened and what to do.
 */
export function answerDelivery(outcome: DeliveryOutcome, event: KeplarsEvent, logger: KeplarsLog): KeplarsWebhookAnswer {
  const about = `${event.type} ${event.id}`;
  switch (outcome.kind) {
    case 'handled':
      if (outcome.unrecorded !== undefined) {
        logger.warn(`Handled ${about}, but could not record it (${messageOf(outcome.unrecorded)}): a redelivery would run its handlers again.`);
      }
      return RECEIVED;
    case 'no-handler':
      if (outcome.unrecorded !== undefined) logger.warn(`Received ${about}, but could not record it (${messageOf(outcome.unrecorded)}).`);
      logger.debug(`No handler takes ${about}: answered 200.`);
      return RECEIVED;
    case 'duplicate':
      logger.debug(`Duplicate of ${about}: already handled, no handler ran.`);
      return DUPLICATE;
    case 'in-progress':
      logger.warn(`Answered 409 to a delivery of ${about}: another delivery of it is still running. Keplars will retry.`);
      throw new ConflictException('This event is being handled by another delivery; retry later.');
    case 'handler-failed':
      for (const { handler, error } of outcome.failures) {
        logger.error(
          `Handler ${handler} failed on ${about}; answered 500 so Keplars retries, and only failed handlers run again.`,
          error instanceof Error ? error.stack : String(error),
        );
      }
      throw new InternalServerErrorException();
    case 'store-unavailable':
      logger.error(
        `Answered 503 to ${about} without running handlers: the deduplication store is unreachable (${messageOf(outcome.error)}). Keplars will retry.`,
      );
      throw new ServiceUnavailableException();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
