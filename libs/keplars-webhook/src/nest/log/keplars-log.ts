import { Logger, type LoggerService } from '@nestjs/common';
import type { KeplarsEvent } from '../../core/0-event/keplars-event.js';
import { LOG_CONTEXT } from '../options/keplars-webhook.constants.js';
import { withDeliveryFields } from './delivery-log-fields.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/**
 * The one way the module writes a log line. Every message passes through {@link escapeControlCharacters}
 * first: event ids, types and headers come from requests, and a newline in one would forge a whole
 * log line, an ANSI escape colour the operator's terminal. (Structured fields, when the app uses
 * Nest's JSON logger, belong here too: one seam for every line.)
 */
export class KeplarsLog implements KeplarsLogger {
  constructor(private readonly logger: LoggerService = new Logger(LOG_CONTEXT)) {}

  /** The same seam for lines about one delivery: they carry its event id, type and attempt as fields. */
  about(event: Pick<KeplarsEvent, 'id' | 'type'>, attempt?: number): KeplarsLog {
    return new KeplarsLog(withDeliveryFields(this.logger, event, attempt));
  }

  log(message: string): void {
    this.logger.log(escapeControlCharacters(message));
  }

  warn(message: string): void {
    this.logger.warn(escapeControlCharacters(message));
  }

  /** `stack` keeps its line breaks (a stack trace has them); every other control character is escaped. */
  error(message: string, stack?: string): void {
    if (stack === undefined) this.logger.error(escapeControlCharacters(message));
    else this.logger.error(escapeControlCharacters(message), escapeControlCharacters(stack, true));
  }

  debug(message: string): void {
    this.logger.debug?.(escapeControlCharacters(message));
  }
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators (line breaks to some viewers).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Writes control characters as visible escapes (`\n`, `\x1b`, `\u2028`), so a log line stays one line of plain text. */
export function escapeControlCharacters(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, (character) => {
    const named = NAMED[character];
    if (named !== undefined) return named;
    const code = character.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
