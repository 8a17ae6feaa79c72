import { EventLocks } from './event-locks.js';
import { HandledEventSet } from './handled-event-set.js';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';

/** An event some of whose handlers succeeded while others failed: what succeeded, until the window ends. */
interface PartlyHandledEvent {
  readonly handled: Set<string>;
  readonly expiresAt: number;
}

const NOTHING_HANDLED: ReadonlySet<string> = new Set();

/** Settings of a {@link MemoryIdempotencyStore} you build yourself (the module builds its own from `deduplication`). */
export interface MemoryIdempotencyStoreOptions {
  /** The most events remembered; the oldest are forgotten first beyond it, so memory stays flat. */
  readonly maxEvents: number;
  /** Told, at most once a minute, when events were forgotten before their window ended. */
  readonly logger?: {
    /** Writes one warning line; Nest's `Logger` fits. */
    warn(message: string): void;
  };
}

const EVICTION_WARNING_INTERVAL_MS = 60_000;

/**
 * The default store: one process's memory, bounded by `maxEvents`; what it remembers expires after
 * the dedup window given to `settle`. Right for a single instance; use the Redis store for several.
 *
 * Handled events, nearly all of them, live in a `HandledEventSet` of fixed size, and the locks of
 * deliveries in flight in `EventLocks` (both private to this store): tables of fingerprints, so that the usual
 * delivery (claim, handlers succeed, settle) allocates nothing that outlives the request. Only
 * events whose handlers partly failed, rare, keep their successful handlers' names in a `Map`,
 * bounded the same way (oldest first). An LRU cache (lru-cache 11) spent most of a request in
 * `delete` under this pattern, and a `Map` of events in flight, its table rebuilt again and again,
 * raised peak memory by tens of MB.
 */
export class MemoryIdempotencyStore implements KeplarsIdempotencyStore {
  private readonly handled: HandledEventSet;
  private readonly locks = new EventLocks();
  private readonly partlyHandled = new Map<string, PartlyHandledEvent>();
  private readonly maxEvents: number;
  private readonly logger: MemoryIdempotencyStoreOptions['logger'];
  private nextToken = 1;
  /** Events forgotten before their window ended, since the last warning said so. */
  private forgottenEarly = 0;
  private lastEvictionWarning = -Infinity;

  constructor(options: MemoryIdempotencyStoreOptions) {
    this.handled = new HandledEventSet(options.maxEvents);
    this.maxEvents = options.maxEvents;
    this.logger = options.logger;
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    return this.claimNow(eventId, lockMs);
  }

  async settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    this.settleNow(eventId, token, succeeded, complete, windowMs);
  }

  /** `claim` without a promise: this store answers at once, and the delivery takes none (see the port). */
  claimNow(eventId: string, lockMs: number): EventClaim {
    const now = Date.now();
    if (this.handled.has(eventId, now)) return DONE;
    const token = this.nextToken++;
    if (!this.locks.acquire(eventId, token, now, now + lockMs)) return BUSY;
    const partly = this.partlyHandledNow(eventId, now);
    const handled = partly === undefined ? NOTHING_HANDLED : new Set(partly.handled);
    // A number, not String(token): V8 keeps the strings it makes of numbers in a cache, which carried
    // one string per request into the old generation (about 25 MB more peak RSS per million events).
    return { state: 'claimed', token, handled };
  }

  async renew(eventId: string, token: string | number, lockMs: number): Promise<boolean> {
    return typeof token === 'number' && this.locks.extend(eventId, token, Date.now() + lockMs);
  }

  /** `settle` without a promise. */
  settleNow(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): void {
    const now = Date.now();
    if (complete) {
      if (this.handled.add(eventId, now + windowMs, now)) this.forgotEarly(now);
      if (this.partlyHandled.size > 0) this.partlyHandled.delete(eventId);
      this.locks.release(eventId, 0);
      return;
    }
    this.locks.release(eventId, typeof token === 'number' ? token : -1);
    if (succeeded.length === 0 || this.handled.has(eventId, now)) return; // nothing to keep, or another delivery finished it meanwhile
    let partly = this.partlyHandledNow(eventId, now);
    if (partly === undefined) {
      partly = { handled: new Set(), expiresAt: now + windowMs };
      if (this.partlyHandled.size >= this.maxEvents) {
        const [oldestId, oldest] = this.partlyHandled.entries().next().value!;
        this.partlyHandled.delete(oldestId);
        if (oldest.expiresAt > now) this.forgotEarly(now);
      }
      this.partlyHandled.set(eventId, partly);
    }
    for (const handler of succeeded) partly.handled.add(handler);
  }

  /**
   * The bound keeps memory flat, but a redelivery of a forgotten event runs its handlers again: say
   * so, at most once a minute, with how many.
   */
  private forgotEarly(now: number): void {
    this.forgottenEarly++;
    if (this.logger === undefined || now - this.lastEvictionWarning < EVICTION_WARNING_INTERVAL_MS) return;
    const count = this.forgottenEarly;
    this.forgottenEarly = 0;
    this.lastEvictionWarning = now;
    this.logger.warn(
      `The memory store forgot ${count} handled ${count === 1 ? 'event before its' : 'events before their'} deduplication window ended: ` +
        `it holds at most deduplication.maxEvents (${this.maxEvents}), and a redelivery of a forgotten event runs its handlers again. ` +
        'Raise maxEvents to the events of one window (about 70 bytes each), or use the Redis store.',
    );
  }

  /** What earlier deliveries of the event handled, unless the window has ended (then it is forgotten). */
  private partlyHandledNow(eventId: string, now: number): PartlyHandledEvent | undefined {
    const partly = this.partlyHandled.size === 0 ? undefined : this.partlyHandled.get(eventId);
    if (partly === undefined || partly.expiresAt > now) return partly;
    this.partlyHandled.delete(eventId);
    return undefined;
  }
}
