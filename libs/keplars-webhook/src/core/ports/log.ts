import type { KeplarsEvent } from '../0-event/keplars-event.js';

/**
 * Where the core and the adapters write their log lines. The Nest shell's `KeplarsLog` implements it:
 * it escapes control characters (event ids and types come from requests) and hands the lines to the
 * app's Nest logger, with the delivery's fields.
 */
export interface KeplarsLogger {
  log(message: string): void;
  warn(message: string): void;
  /** `stack` keeps its line breaks. */
  error(message: string, stack?: string): void;
  debug(message: string): void;
  /** The same log for lines about one delivery: each carries the event's id and type (and the worker's attempt) as fields. */
  about(event: Pick<KeplarsEvent, 'id' | 'type'>, attempt?: number): KeplarsLogger;
}
