import type { KeplarsTransactionKind } from '../0-event/keplars-event-handler.js';

/**
 * What a delivery learns when it tries to take an event (SPEC §4):
 * - `done`: every handler already succeeded for it; answer as a duplicate;
 * - `busy`: another delivery of it is running right now (here or on another instance);
 * - `claimed`: this delivery holds it until `settle`, or until the lock expires if this process dies;
 *   `handled` lists the handlers that already succeeded on an earlier delivery, and `token` is
 *   whatever the store chose to tell this delivery's lock apart, handed back to `settle` unchanged.
 */
export type EventClaim =
  | {
      /** Every handler already succeeded for the event. */
      readonly state: 'done';
    }
  | {
      /** Another delivery of the event holds it right now. */
      readonly state: 'busy';
    }
  | {
      /** This delivery holds the event now. */
      readonly state: 'claimed';
      /** The store's mark of this delivery's lock; `renew` and `settle` get it back unchanged. */
      readonly token: string | number;
      /** Names of the handlers that succeeded for the event on earlier deliveries: they are not run again. */
      readonly handled: ReadonlySet<string>;
    };

/**
 * Where deduplication marks live. One small interface, so the in-memory and Redis stores (or your
 * own) are interchangeable; both operations must be atomic per event id. A store that cannot be
 * reached rejects, and the webhook answers 503 without running any handler.
 *
 * The `eventId` a store receives is the event's key (`keplarsEventKey()` in `event-key.ts`): its id, prefixed with
 * the endpoint and tenant that received it when there are several (`eu::evt_1`), so one store can
 * serve several endpoints without mixing their events up.
 *
 * @example
 * // your own store, given as the deduplication store:
 * KeplarsWebhookModule.forRoot({ secret, deduplication: { store: new MyDatabaseStore(pool) } })
 */
export interface KeplarsIdempotencyStore {
  /** Takes the event for this delivery, unless it is done or held by another delivery. */
  claim(eventId: string, lockMs: number): Promise<EventClaim>;
  /**
   * Records the handlers that succeeded, marks the event done when `complete`, and releases the lock
   * if `token` still holds it. Marks live for `windowMs`.
   */
  settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void>;
  /**
   * `claim`, answered at once: for a store that needs no I/O to answer (the memory store). With it
   * and {@link settleNow}, a delivery whose handlers return at once completes without a promise or a
   * turn of the event loop. A store has both or neither; the module then calls them instead of
   * `claim` and `settle` (and `settle` when `settleNow` throws).
   */
  claimNow?(eventId: string, lockMs: number): EventClaim;
  /** `settle`, answered at once: see {@link claimNow}. */
  settleNow?(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): void;
  /**
   * Records one handler's success as soon as it returns, while the delivery still holds the event,
   * so that a process killed before `settle` does not lose it (queue mode's workers use it). A store
   * without it records successes at `settle` only.
   */
  markHandled?(eventId: string, handler: string, windowMs: number): Promise<void>;
  /**
   * Whether every handler already succeeded for the event, without taking it: queue mode's receivers
   * ask, to answer a redelivery `duplicate` instead of queuing it again.
   */
  isHandled?(eventId: string): Promise<boolean>;
  /**
   * Extends the lock `token` holds on the event to `lockMs` from now, while its handlers still run, so
   * that no other delivery takes the event over meanwhile. Resolves `false` if `token` no longer holds
   * it. Optional for stores of your own: without it, a handler that runs longer than `lockSeconds`
   * can be started again by a retry while it still runs (the module warns at startup).
   */
  renew?(eventId: string, token: string | number, lockMs: number): Promise<boolean>;
  /**
   * Runs `work` inside one database transaction that also writes `handler`'s success mark for the
   * event (SPEC §4b): the handler's writes and its mark commit together or not at all. Resolves
   * `'already-handled'` without running `work` when an unexpired mark exists (an earlier delivery
   * committed it; a second delivery racing past an expired lock waits on the mark's row, then finds
   * it). `work` gets the driver's own transaction object ({@link transactionKind} says which).
   * Only stores on a database the app itself writes to have it (the Postgres store).
   */
  inTransaction?(eventId: string, handler: string, windowMs: number, work: (transaction: unknown) => Promise<unknown>): Promise<'committed' | 'already-handled'>;
  /** What {@link inTransaction} hands a handler: a `pg` client, a TypeORM `EntityManager`, or a PGlite transaction. */
  readonly transactionKind?: KeplarsTransactionKind;
  /** Checks the store is reachable (at startup, for a log line that says so). */
  ping?(): Promise<void>;
  /** Releases connections the store opened itself. */
  close?(): Promise<void>;
}

export const DONE: EventClaim = Object.freeze({ state: 'done' });
export const BUSY: EventClaim = Object.freeze({ state: 'busy' });
