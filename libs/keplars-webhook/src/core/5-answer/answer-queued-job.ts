import type { QueuedDelivery, QueuedHandlerFailure } from '../ports/queued-delivery.js';
import type { QueuedDeliveryResult } from '../4-deliver/process-queued-delivery.js';
import type { KeplarsLogger } from '../ports/log.js';

/** What a worker's job ends as; the worker shell does it with BullMQ. */
export type QueuedJobAnswer =
  /** Done: the value is the job's result. */
  | { readonly kind: 'complete'; readonly result: QueuedJobResult }
  /** Failed this attempt: kept in the job, retried after the backoff, a dead letter after the last attempt. */
  | { readonly kind: 'retry'; readonly reason: string; readonly record: Partial<QueuedDelivery> }
  /** Cannot be read: a dead letter at once (retrying would read it the same way), replayable later. */
  | { readonly kind: 'dead-letter'; readonly reason: string; readonly record: Partial<QueuedDelivery> }
  /** Another worker holds the event (one that died holds it until its lock lapses): try again then, not counted as an attempt. */
  | { readonly kind: 'wait'; readonly delayMs: number; readonly reason: string };

export interface QueuedJobResult {
  readonly eventId: string;
  readonly type: string;
  readonly handlers?: number;
  readonly duplicate?: true;
}

export interface QueuedJobContext {
  /** This attempt, from 1. */
  readonly attempt: number;
  readonly attempts: number;
  /** The matching handlers' names (all of them, succeeded before or not). */
  readonly handlerNames: readonly string[];
  /** What earlier attempts recorded. */
  readonly delivery: QueuedDelivery;
  /** How long a held event may stay held: the store's lock. */
  readonly lockMs: number;
}

/**
 * The worker's error policy, as `answerDelivery` is the route's: how each outcome ends the job, and
 * the log line that says so. A failure keeps every handler's last error in the job, so the dead
 * letter says what went wrong, and which handlers succeeded, so a replay runs only the others.
 */
export function answerQueuedJob(result: QueuedDeliveryResult, context: QueuedJobContext, logger: KeplarsLogger): QueuedJobAnswer {
  if (result.kind === 'unreadable') {
    const reason = `unreadable: ${result.messages.join('; ')}`;
    logger.warn(`Kept a signed delivery the module cannot read as a dead letter (${reason}); replay it once the module reads it.`);
    return { kind: 'dead-letter', reason, record: { unreadable: result.messages } };
  }
  const { event, outcome } = result;
  const about = `${event.type} ${event.id} (attempt ${context.attempt} of ${context.attempts})`;
  switch (outcome.kind) {
    case 'handled':
      if (outcome.unrecorded !== undefined) logger.warn(`Handled ${about}, but could not record it: a redelivery would run its handlers again.`);
      return { kind: 'complete', result: { eventId: event.id, type: event.type, handlers: outcome.handlers } };
    case 'no-handler':
      logger.debug(`No handler takes ${about}.`);
      return { kind: 'complete', result: { eventId: event.id, type: event.type, handlers: 0 } };
    case 'duplicate':
      logger.debug(`Duplicate of ${event.type} ${event.id}: already handled, no handler ran.`);
      return { kind: 'complete', result: { eventId: event.id, type: event.type, duplicate: true } };
    case 'in-progress': {
      const delayMs = Math.min(context.lockMs, 5000);
      return { kind: 'wait', delayMs, reason: `another worker holds ${event.type} ${event.id}` };
    }
    case 'store-unavailable':
      logger.error(`Could not run ${about}: the deduplication store is unreachable (${messageOf(outcome.error)}). It is retried.`);
      return { kind: 'retry', reason: `the deduplication store is unreachable: ${messageOf(outcome.error)}`, record: {} };
    case 'handler-failed': {
      const last = context.attempt >= context.attempts;
      const now = Date.now();
      const failures: QueuedHandlerFailure[] = outcome.failures.map(({ handler, error }) => ({ handler, error: messageOf(error), attempt: context.attempt, at: now }));
      const failed = new Set(failures.map((failure) => failure.handler));
      for (const { handler, error } of outcome.failures) {
        logger.error(
          `Handler ${handler} failed on ${about}; ${last ? 'no attempt left: kept as a dead letter, replay it once fixed' : 'it alone is retried after a backoff'}.`,
          error instanceof Error ? error.stack : String(error),
        );
      }
      const succeeded = [...new Set([...(context.delivery.succeeded ?? []), ...context.handlerNames.filter((name) => !failed.has(name))])];
      const reason = failures.map((failure) => `${failure.handler}: ${failure.error}`).join('; ');
      return { kind: 'retry', reason: `${failures.length} handler(s) failed: ${reason}`, record: { succeeded, failures } };
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
