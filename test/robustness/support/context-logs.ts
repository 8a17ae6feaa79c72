import type { LoggerService } from '@nestjs/common';

export interface ContextLogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly context: string;
  readonly message: string;
}

/**
 * A Nest logger that keeps every line with its context (`KeplarsWebhook`, `ExceptionsHandler`…), to
 * tell the module's own reports from the framework's. Debug lines are counted, not kept.
 */
export class ContextLogs implements LoggerService {
  readonly lines: ContextLogLine[] = [];
  debugLines = 0;

  log(message: unknown, ...rest: unknown[]): void {
    this.add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.add('warn', message, rest);
  }
  debug(): void {
    this.debugLines++;
  }
  verbose(): void {
    this.debugLines++;
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.add('fatal', message, rest);
  }

  private add(level: ContextLogLine['level'], message: unknown, rest: unknown[]): void {
    // Nest passes the context last, after an optional stack.
    const context = typeof rest.at(-1) === 'string' ? String(rest.at(-1)) : '';
    const text = message instanceof Error ? `${message.name}: ${message.message}` : String(message);
    this.lines.push({ level, context, message: [text, ...rest.slice(0, -1).map(String)].join(' ') });
  }
}
