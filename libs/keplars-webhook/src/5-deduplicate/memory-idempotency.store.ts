import { HandledEventSet } from './handled-event-set.js';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from './idempotency-store.js';

/** An event some delivery is running now, or one whose handlers did not all succeed yet. */
interface UnfinishedEvent {
  /** Created when the first handler succeeds: most events are settled complete, and never need it. */
  handled: Set<string> | undefined;
  lockToken: number;
  lockExpiresAt: number;
  /** When what succeeded is forgotten (the dedup window). */
  readonly expiresAt: number;
}

const NOTHING_HANDLED: ReadonlySet<string> = new Set();

export interface MemoryIdempotencyStoreOptions {
  /** How long a handled event is remembered, in milliseconds. */
  readonly windowMs: number;
  /** The most events remembered; the oldest are forgotten first beyond it, so memory stays flat. */
  readonly maxEvents: number;
}

/**
 * The default store: one process's memory, bounded by `maxEvents` and expiring after the dedup
 * window. Right for a single instance; use the Redis store for several.
 *
 * Handled events, nearly all of them, live in a {@link HandledEventSet} of fixed size. Events still
 * being delivered, or partly handled, are few and short-lived: they sit in a `Map`, bounded the same
 * way (oldest first). Both are written for this one pattern, where every event is added once and
 * soon settled: an LRU cache (lru-cache 11) spent most of a request in `delete` under it, and kept
 * each handled id on the V8 heap.
 */
export class MemoryIdempotencyStore implements KeplarsIdempotencyStore {
  private readonly handled: HandledEventSet;
  private readonly unfinished = new Map<string, UnfinishedEvent>();
  private readonly maxEvents: number;
  private readonly windowMs: number;
  private nextToken = 1;

  constructor(options: MemoryIdempotencyStoreOptions) {
    this.handled = new HandledEventSet(options.maxEvents);
    this.maxEvents = options.maxEvents;
    this.windowMs = options.windowMs;
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    const now = Date.now();
    if (this.handled.has(eventId, now)) return DONE;
    let entry = this.unfinished.get(eventId);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.unfinished.delete(eventId);
      entry = undefined;
    }
    if (entry !== undefined && entry.lockExpiresAt > now) return BUSY;

    const token = this.nextToken++;
    if (entry === undefined) {
      this.remember(eventId, { handled: undefined, lockToken: token, lockExpiresAt: now + lockMs, expiresAt: now + this.windowMs });
      return { state: 'claimed', token: String(token), handled: NOTHING_HANDLED };
    }
    entry.lockToken = token;
    entry.lockExpiresAt = now + lockMs;
    return { state: 'claimed', token: String(token), handled: entry.handled ? new Set(entry.handled) : NOTHING_HANDLED };
  }

  async settle(eventId: string, token: string, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    const now = Date.now();
    if (complete) {
      this.handled.add(eventId, now + windowMs);
      this.unfinished.delete(eventId);
      return;
    }
    if (this.handled.has(eventId, now)) return; // another delivery finished it meanwhile
    let entry = this.unfinished.get(eventId);
    if (entry === undefined) {
      // Evicted while the handlers ran: keep what succeeded.
      entry = { handled: undefined, lockToken: 0, lockExpiresAt: 0, expiresAt: now + windowMs };
      this.remember(eventId, entry);
    }
    for (const handler of succeeded) (entry.handled ??= new Set()).add(handler);
    if (String(entry.lockToken) === token) entry.lockExpiresAt = 0;
  }

  private remember(eventId: string, entry: UnfinishedEvent): void {
    if (this.unfinished.size >= this.maxEvents) this.unfinished.delete(this.unfinished.keys().next().value!);
    this.unfinished.set(eventId, entry);
  }
}
