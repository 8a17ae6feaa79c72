import { ConsoleLogger, type LoggerService } from '@nestjs/common';
import type { KeplarsEvent } from '../../core/0-event/keplars-event.js';

/** What every log line about a delivery carries as fields: never the body, a recipient or a secret. */
export interface DeliveryLogFields {
  readonly eventId: string;
  readonly eventType: string;
  /** Queue mode: the worker's attempt, from 1. */
  readonly attempt?: number;
}

/**
 * Nest's console logger takes plain objects after the message as structured fields (`params` in its
 * JSON output, `{ eventId: … }` after the text otherwise) from the version that has them; before
 * that, it prints each object as a line of its own, so the fields are left to the message's words.
 * Custom loggers (pino, winston) take an object after the message as metadata.
 */
const LOGGER_TAKES_FIELDS = typeof (ConsoleLogger.prototype as unknown as Record<string, unknown>)['stringifyParams'] === 'function';

/**
 * The logger, with the delivery's fields added to every line it writes: the answer steps write their
 * lines as before, and the lines carry the event's id, type and attempt as fields, beside the words.
 */
export function withDeliveryFields(logger: LoggerService, event: Pick<KeplarsEvent, 'id' | 'type'>, attempt?: number): LoggerService {
  if (!LOGGER_TAKES_FIELDS) return logger;
  const fields: DeliveryLogFields = attempt === undefined ? { eventId: event.id, eventType: event.type } : { eventId: event.id, eventType: event.type, attempt };
  return {
    log: (message: unknown) => logger.log(message, fields),
    warn: (message: unknown) => logger.warn(message, fields),
    error: (message: unknown, stack?: unknown) => (stack === undefined ? logger.error(message, fields) : logger.error(message, stack, fields)),
    debug: (message: unknown) => logger.debug?.(message, fields),
    verbose: (message: unknown) => logger.verbose?.(message, fields),
    fatal: (message: unknown) => logger.fatal?.(message, fields),
  };
}
