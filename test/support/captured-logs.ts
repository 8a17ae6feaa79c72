import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** Who logged it: `KeplarsWebhook`, `ExceptionsHandler`, … */
  readonly context: string;
  readonly message: string;
  /** Structured fields passed after the message (plain objects), merged, as Nest's logger takes them. */
  readonly fields?: Record<string, unknown>;
}

/** A Nest logger that keeps every line, to check what a person on call would read. */
export class CapturedLogs implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.add('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.add('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.add('fatal', message, rest);
  }

  /** Lines of the module's own context, from this point on: `const mark = logs.mark(); … logs.since(mark)`. */
  mark(): number {
    return this.lines.length;
  }
  since(mark: number, level?: LogLine['level']): LogLine[] {
    return this.lines.slice(mark).filter((line) => level === undefined || line.level === level);
  }
  text(): string {
    return this.lines.map((line) => `${line.level} ${line.message}${line.fields ? ` ${JSON.stringify(line.fields)}` : ''}`).join('\n');
  }

  private add(level: LogLine['level'], message: unknown, rest: unknown[]): void {
    // Nest passes the context last, after an optional stack.
    const context = typeof rest.at(-1) === 'string' ? String(rest.at(-1)) : '';
    const text = message instanceof Error ? `${message.name}: ${message.message}` : String(message);
    const params = rest.slice(0, context ? -1 : undefined);
    const isFields = (param: unknown): param is Record<string, unknown> => typeof param === 'object' && param !== null && Object.getPrototypeOf(param) === Object.prototype;
    const fields = params.filter(isFields);
    const line: LogLine = { level, context, message: [text, ...params.filter((param) => !isFields(param)).map(String)].join(' ') };
    this.lines.push(fields.length === 0 ? line : { ...line, fields: Object.assign({}, ...fields) });
  }
}
