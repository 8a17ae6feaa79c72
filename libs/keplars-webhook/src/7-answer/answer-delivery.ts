import { ConflictException, InternalServerErrorException, ServiceUnavailableException, type LoggerService } from '@nestjs/common';
import type { KeplarsEvent } from '../4-normalize/keplars-event.js';
import type { DeliveryOutcome } from '../6-dispatch/keplars-event-delivery.js';

/** The body of a 200 answer. */
export interface KeplarsWebhookAnswer {
  readonly received: true;
  /** Present when the event had already been handled: no handler ran this time. */
  readonly duplicate?: true;
}

const RECEIVED: KeplarsWebhookAnswer = Object.freeze({ received: true });
const DUPLICATE: KeplarsWebhookAnswer = Object.freeze({ received: true, duplicate: true });

/**
 * The module's whole error policy (SPEC §3): how a delivery's outcome is answered and logged. Errors
 * answer in Nest's shape without internal detail; the log line says what happened and what to do.
 */
export function answerDelivery(outcome: DeliveryOutcome, event: KeplarsEvent, logger: LoggerService): KeplarsWebhookAnswer {
  const about = `${event.type} ${event.id}`;
  switch (outcome.kind) {
    case 'handled':
      if (outcome.unrecorded !== undefined) {
        logger.warn(`Handled ${about}, but could not record it (${messageOf(outcome.unrecorded)}): a redelivery would run its handlers again.`);
      }
      return RECEIVED;
    case 'duplicate':
      logger.debug?.(`Duplicate of ${about}: already handled, no handler ran.`);
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
