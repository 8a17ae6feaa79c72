import type { KeplarsEvent } from './keplars-event.js';

/**
 * Which open transaction a transactional handler is given (`@OnKeplarsEvent(type, { transaction })`):
 * the `pg` `PoolClient`, a TypeORM `EntityManager` on it, or a PGlite `Transaction`. The store's
 * `transactionKind` must be the same.
 */
export type KeplarsTransactionKind = 'pg' | 'typeorm' | 'pglite';

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
  /**
   * Set when the handler runs inside the transaction that records its success (SPEC §4b): it is
   * then called with that transaction as its second argument, and its writes and its mark commit
   * together. Absent: it runs on its own, and its mark is written after it returns (SPEC §4).
   */
  readonly transaction?: KeplarsTransactionKind;

  /**
   * The name of a handler that must have succeeded for the event before this one runs (the email
   * ledger's reactions wait for the ledger's record). If that one fails, this one fails too, and both
   * run on the next delivery.
   */
  readonly after?: string;
  readonly invoke: (event: KeplarsEvent, transaction?: unknown) => unknown;
  /**
   * How many of the app's functions one run of it calls for this type, when that is not one: the
   * `@nestjs/event-emitter` forwarder calls every `@OnEvent('keplars.…')` listener, or none.
   */
  readonly listenerCount?: (type: string) => number;
}
