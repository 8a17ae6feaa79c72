import type { KeplarsEvent } from '../0-event/keplars-event.js';
import type { DeliveryOutcome, QueueWriteOutcome } from '../0-event/delivery-outcome.js';
import type { KeplarsLogger } from '../ports/log.js';

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

/**
 * How the route answers a request that passed the signature check: 200 with its body, or a refusal
 * by status, which the framework's shell turns into its own error answer (in Nest, the matching
 * `HttpException`, so the body keeps Nest's shape and no internal detail).
 */
export type KeplarsAnswer =
  | { readonly status: 200; readonly body: KeplarsWebhookAnswer }
  /** The signed body is not a Keplars event; `messages` says why, one per problem. */
  | { readonly status: 400; readonly messages: readonly string[] }
  /** Retry later: another delivery holds the event (409), a handler failed (500), the store or queue is away (503). */
  | { readonly status: 409 | 500 | 503; readonly message?: string };

// Every answer is one of a few shapes: built once, shared by every request (nothing to allocate).
const RECEIVED: KeplarsAnswer = Object.freeze({ status: 200, body: Object.freeze({ received: true }) });
const DUPLICATE: KeplarsAnswer = Object.freeze({ status: 200, body: Object.freeze({ received: true, duplicate: true }) });
const QUARANTINED: KeplarsAnswer = Object.freeze({ status: 200, body: Object.freeze({ received: true, quarantined: true }) });
const IN_PROGRESS: KeplarsAnswer = Object.freeze({ status: 409, message: 'This event is being handled by another delivery; retry later.' });
const FAILED: KeplarsAnswer = Object.freeze({ status: 500 });
const UNAVAILABLE: KeplarsAnswer = Object.freeze({ status: 503 });

/** A signed body that is not a Keplars event (not JSON, no type, a field of the wrong kind): 400, inline mode. */
export function answerUnreadable(messages: readonly string[], logger: KeplarsLogger): KeplarsAnswer {
  logger.warn(`Rejected a signed webhook with an invalid payload (400): ${messages.join('; ')}`);
  return { status: 400, messages };
}

/**
 * Queue mode's answers (SPEC §4a): 2xx only once Redis has the delivery; 503 when it does not, so
 * Keplars retries.
 */
export function answerQueueWrite(outcome: QueueWriteOutcome, event: Pick<KeplarsEvent, 'id' | 'type'> | undefined, logger: KeplarsLogger): KeplarsAnswer {
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
      return UNAVAILABLE;
  }
}

/**
 * The module's whole error policy (SPEC §3): how a delivery's outcome is answered and logged. Errors
 * answer in Nest's shape without internal detail; the log line says what happened and what to do,
 * and carries the event's fields (`logger.about(event)`, built only when a line is written: the
 * usual answer writes none).
 */
export function answerDelivery(outcome: DeliveryOutcome, event: KeplarsEvent, logger: KeplarsLogger): KeplarsAnswer {
  switch (outcome.kind) {
    case 'handled':
      if (outcome.unrecorded !== undefined) {
        logger.about(event).warn(`Handled ${about(event)}, but could not record it (${messageOf(outcome.unrecorded)}): a redelivery would run its handlers again.`);
      }
      return RECEIVED;
    case 'no-handler': {
      const log = logger.about(event);
      if (outcome.unrecorded !== undefined) log.warn(`Received ${about(event)}, but could not record it (${messageOf(outcome.unrecorded)}).`);
      log.debug(`No handler takes ${about(event)}: answered 200.`);
      return RECEIVED;
    }
    case 'duplicate':
      logger.about(event).debug(`Duplicate of ${about(event)}: already handled, no handler ran.`);
      return DUPLICATE;
    case 'in-progress':
      logger.about(event).warn(`Answered 409 to a delivery of ${about(event)}: another delivery of it is still running. Keplars will retry.`);
      return IN_PROGRESS;
    case 'handler-failed': {
      const log = logger.about(event);
      for (const { handler, error } of outcome.failures) {
        log.error(
          `Handler ${handler} failed on ${about(event)}; answered 500 so Keplars retries, and only failed handlers run again.`,
          error instanceof Error ? error.stack : String(error),
        );
      }
      return FAILED;
    }
    case 'store-unavailable':
      logger.about(event).error(
        `Answered 503 to ${about(event)} without running handlers: the deduplication store is unreachable (${messageOf(outcome.error)}). Keplars will retry.`,
      );
      return UNAVAILABLE;
  }
}

/** How a log line names an event. */
function about(event: Pick<KeplarsEvent, 'id' | 'type'>): string {
  return `${event.type} ${event.id}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
