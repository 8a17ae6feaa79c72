import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
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
    return this.lines.map((line) => `${line.level} ${line.message}`).join('\n');
  }

  private add(level: LogLine['level'], message: unknown, rest: unknown[]): void {
    const extra = rest.filter((part) => typeof part === 'string' && part !== 'KeplarsWebhook').join(' ');
    this.lines.push({ level, message: `${String(message)}${extra ? ` ${extra}` : ''}` });
  }
}
