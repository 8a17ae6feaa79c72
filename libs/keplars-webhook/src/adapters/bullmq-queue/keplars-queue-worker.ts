import type { Job, Worker, WorkerOptions } from 'bullmq';
import type { QueuedDelivery } from '../../core/ports/queued-delivery.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import type { KeplarsEventDelivery } from '../../core/4-deliver/keplars-event-delivery.js';
import type { KeplarsHandlerRegistry } from '../../core/4-deliver/keplars-handler-registry.js';
import type { DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { answerQueuedJob, type QueuedJobResult } from '../../core/5-answer/answer-queued-job.js';
import type { ResolvedQueueOptions } from './keplars-queue.options.js';
import { processQueuedDelivery, restoreSucceededMarks } from '../../core/4-deliver/process-queued-delivery.js';
import type { BullMQ } from './queue-connections.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/** Builds a BullMQ worker on the queue's server (Redis or Postgres); the connection is its to add. */
export type NewQueueWorker = (name: string, processor: (job: Job<QueuedDelivery, QueuedJobResult>, token?: string) => Promise<QueuedJobResult>, options: Omit<WorkerOptions, 'connection'>) => Worker<QueuedDelivery, QueuedJobResult>;

export interface QueueWorkerParts {
  readonly bullmq: BullMQ;
  readonly newWorker: NewQueueWorker;
  readonly options: ResolvedQueueOptions;
  readonly dispatch: KeplarsEventDelivery;
  readonly registry: KeplarsHandlerRegistry;
  readonly store: KeplarsIdempotencyStore | undefined;
  readonly windowMs: number;
  readonly lockMs: number;
  readonly logger: KeplarsLogger;
  readonly telemetry: DeliveryTelemetry;
}

/**
 * How BullMQ fails a job whose worker died more often than `maxStalledCount` allows ("job stalled more
 * than allowable limit"), with an `UnrecoverableError` at its next start.
 */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/;

/**
 * A BullMQ worker over the queue of deliveries: each job walks the rest of the pipeline
 * ({@link processQueuedDelivery}), and {@link answerQueuedJob} says how it ends. BullMQ does the
 * rest: retries with backoff, taking over the job of a worker that died (stalled jobs), keeping the
 * failed ones (the dead letters).
 */
export function startQueueWorker(parts: QueueWorkerParts): Worker<QueuedDelivery, QueuedJobResult> {
  const { bullmq, options, logger } = parts;
  const worker = parts.newWorker(options.name, (job, token) => processJob(parts, job, token), {
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.stalledMs,
    stalledInterval: options.stalledMs,
    maxStalledCount: 1,
  });
  let reported = false;
  worker.on('error', (error: Error) => {
    // On Redis the connection's own listener says when it is away; anything else is said once a minute at most.
    if (reported) return;
    reported = true;
    setTimeout(() => (reported = false), 60_000).unref();
    logger.error(`The Keplars queue worker hit an error (${error.message}); it keeps going.`);
  });
  worker.on('failed', (job, error) => {
    if (!job || error instanceof bullmq.DelayedError) return;
    if (STALLED_TOO_OFTEN.test(error.message)) {
      // BullMQ's own verdict, whatever attempts remain: nothing else would say it.
      loggerAbout(logger, job.data, job.attemptsMade).warn(
        `Delivery ${job.id} is now a dead letter: the workers handling it stopped twice before it finished (crashed, killed, or frozen for over ` +
          `queue.stalledSeconds), and BullMQ gives up on such a delivery so that it cannot take every worker down. If its handlers are not to blame ` +
          `(a deploy, a kill), replay it: npx keplars-webhook dead-letters replay ${job.id}`,
      );
      return;
    }
    if (job.attemptsMade >= (job.opts.attempts ?? 1)) {
      loggerAbout(logger, job.data, job.attemptsMade).warn(`Delivery ${job.id} is now a dead letter after ${job.attemptsMade} attempt(s): ${error.message}`);
    }
  });
  return worker;
}

async function processJob(parts: QueueWorkerParts, job: Job<QueuedDelivery, QueuedJobResult>, token: string | undefined): Promise<QueuedJobResult> {
  const { bullmq, options, dispatch, registry, store, logger, telemetry } = parts;
  const delivery = job.data;
  await restoreSucceededMarks(delivery, store, parts.windowMs);
  const attempt = { traceparent: delivery.traceparent, attempt: job.attemptsMade + 1 };
  const result = await processQueuedDelivery(delivery, { deliver: (event) => telemetry.process(attempt, event, () => dispatch.deliver(event)) });
  const answer = answerQueuedJob(
    result,
    {
      attempt: job.attemptsMade + 1,
      attempts: job.opts.attempts ?? options.attempts,
      handlerNames: result.kind === 'delivered' ? registry.handlersFor(result.event.type, result.event.endpoint, result.event.tenant).map((handler) => handler.name) : [],
      delivery,
      lockMs: parts.lockMs,
    },
    loggerAbout(logger, result.kind === 'delivered' ? result.event : delivery, attempt.attempt),
  );
  switch (answer.kind) {
    case 'complete':
      return answer.result;
    case 'wait':
      await job.moveToDelayed(Date.now() + answer.delayMs, token);
      throw new bullmq.DelayedError(answer.reason);
    case 'retry':
    case 'dead-letter': {
      const eventId = result.kind === 'delivered' ? result.event.id : delivery.eventId;
      const type = result.kind === 'delivered' ? result.event.type : delivery.type;
      await job.updateData({ ...delivery, eventId, type, ...answer.record });
      throw answer.kind === 'retry' ? new Error(answer.reason) : new bullmq.UnrecoverableError(answer.reason);
    }
  }
}

/** The log, with the event's id, type and attempt as fields of each line, when the event could be read. */
function loggerAbout(logger: KeplarsLogger, about: { readonly id: string; readonly type: string } | QueuedDelivery, attempt: number): KeplarsLogger {
  const event = 'id' in about ? about : about.eventId !== undefined ? { id: about.eventId, type: about.type ?? 'unknown' } : undefined;
  return event === undefined ? logger : logger.about(event, attempt);
}
