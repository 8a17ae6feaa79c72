import type { KeplarsEvent } from './keplars-event.js';

/** Endpoints and tenants a handler takes events from, as checked lists; `undefined` takes all. */
export interface HandlerSubscription {
  readonly patterns: readonly string[];
  readonly endpoints?: readonly string[] | undefined;
  readonly tenants?: readonly string[] | undefined;
}

/** One method (or listener) that takes events of the types its patterns match. */
export interface KeplarsEventHandler {
  /** Stable across restarts and instances (`ClassName.method`): deduplication marks are kept by it. */
  readonly name: string;
  /** Every pattern it listens to (of all its subscriptions). */
  readonly patterns: readonly string[];
  /**
   * What it takes, when it filters by endpoint or tenant (SPEC §7): an event is its if any one
   * subscription matches it. Absent: `patterns` from every endpoint and tenant.
   */
  readonly subscriptions?: readonly HandlerSubscription[];
  /** Decides which types it takes, instead of `patterns` (an `@OnEvent()` listener: the event emitter's own wildcards). */
  readonly matches?: (type: string) => boolean;
  readonly invoke: (event: KeplarsEvent) => unknown;
  /**
   * How many of the app's functions one run of it calls for this type, when that is not one: the
   * `@nestjs/event-emitter` forwarder calls every `@OnEvent('keplars.…')` listener, or none.
   */
  readonly listenerCount?: (type: string) => number;
}
