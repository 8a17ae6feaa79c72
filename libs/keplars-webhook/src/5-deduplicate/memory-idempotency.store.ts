import { EventLocks } from './event-locks.js';
import { HandledEventSet } from './handled-event-set.js';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from './idempotency-store.js';

/** An event some of whose handlers succeeded while others failed: what succeeded, until the window ends. */
interface PartlyHandledEvent {
  readonly handled: Set<string>;
  readonly expiresAt: number;
}

const NOTHING_HANDLED: ReadonlySet<string> = new Set();

export interface MemoryIdempotencyStoreOptions {
  /** The most events remembered; the oldest are forgotten first beyond it, so memory stays flat. */
  readonly maxEvents: number;
}

/**
 * The default store: one process's memory, bounded by `maxEvents`; what it remembers expires after
 * the dedup window given to `settle`. Right for a single instance; use the Redis store for several.
 *
 * Handled events, nearly all of them, live in a {@link HandledEventSet} of fixed size, and the locks
 * of deliveries in flight in {@link EventLocks}: both tables of fingerprints, so that the usual
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
  private nextToken = 1;

  constructor(options: MemoryIdempotencyStoreOptions) {
    this.handled = new HandledEventSet(options.maxEvents);
    this.maxEvents = options.maxEvents;
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
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

  async settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    const now = Date.now();
    if (complete) {
      this.handled.add(eventId, now + windowMs);
      if (this.partlyHandled.size > 0) this.partlyHandled.delete(eventId);
      this.locks.release(eventId, 0);
      return;
    }
    this.locks.release(eventId, typeof token === 'number' ? token : -1);
    if (succeeded.length === 0 || this.handled.has(eventId, now)) return; // nothing to keep, or another delivery finished it meanwhile
    let partly = this.partlyHandledNow(eventId, now);
    if (partly === undefined) {
      partly = { handled: new Set(), expiresAt: now + windowMs };
      if (this.partlyHandled.size >= this.maxEvents) this.partlyHandled.delete(this.partlyHandled.keys().next().value!);
      this.partlyHandled.set(eventId, partly);
    }
    for (const handler of succeeded) partly.handled.add(handler);
  }

  /** What earlier deliveries of the event handled, unless the window has ended (then it is forgotten). */
  private partlyHandledNow(eventId: string, now: number): PartlyHandledEvent | undefined {
    const partly = this.partlyHandled.size === 0 ? undefined : this.partlyHandled.get(eventId);
    if (partly === undefined || partly.expiresAt > now) return partly;
    this.partlyHandled.delete(eventId);
    return undefined;
  }
}
