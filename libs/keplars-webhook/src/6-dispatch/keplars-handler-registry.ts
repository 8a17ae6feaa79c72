import type { KeplarsEvent } from '../4-normalize/keplars-event.js';

/** One method (or listener) that takes events of the types its patterns match. */
export interface KeplarsEventHandler {
  /** Stable across restarts and instances (`ClassName.method`): deduplication marks are kept by it. */
  readonly name: string;
  readonly patterns: readonly string[];
  readonly invoke: (event: KeplarsEvent) => unknown;
  /**
   * How many of the app's functions one run of it calls for this type, when that is not one: the
   * `@nestjs/event-emitter` forwarder calls every `@OnEvent('keplars.…')` listener, or none.
   */
  readonly listenerCount?: (type: string) => number;
}

/** How many of the app's handlers and listeners a run of these entries called (for the app's developer). */
export function countListeners(ran: readonly KeplarsEventHandler[], type: string): number {
  let count = 0;
  for (const handler of ran) count += handler.listenerCount?.(type) ?? 1;
  return count;
}

const MAX_CACHED_TYPES = 256;

/** The handlers found at startup, and which of them take a given event type. */
export class KeplarsHandlerRegistry {
  private readonly handlers: KeplarsEventHandler[] = [];
  private readonly byType = new Map<string, readonly KeplarsEventHandler[]>();

  /** @param prepare applied to each handler as it is added (the module's telemetry wraps it there). */
  constructor(private readonly prepare: (handler: KeplarsEventHandler) => KeplarsEventHandler = (handler) => handler) {}

  add(handler: KeplarsEventHandler): void {
    this.handlers.push(this.prepare(handler));
    this.byType.clear();
  }

  all(): readonly KeplarsEventHandler[] {
    return this.handlers;
  }

  handlersFor(type: string): readonly KeplarsEventHandler[] {
    let matching = this.byType.get(type);
    if (matching === undefined) {
      matching = this.handlers.filter((handler) => handler.patterns.some((pattern) => patternMatches(pattern, type)));
      // Types come from signed requests, but keep the cache bounded all the same.
      if (this.byType.size < MAX_CACHED_TYPES) this.byType.set(type, matching);
    }
    return matching;
  }
}

/** `'*'` matches every type, `'email.*'` every type under `email.`, anything else only itself. */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
