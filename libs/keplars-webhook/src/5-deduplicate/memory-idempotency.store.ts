import { LRUCache } from 'lru-cache';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from './idempotency-store.js';

interface PartialEvent {
  /** Created when the first handler succeeds: most events are settled complete, and never need it. */
  handled: Set<string> | undefined;
  lockToken: number;
  lockExpiresAt: number;
}

/** A handled event is remembered as this one shared value, so each costs only its key. */
const HANDLED = 1;
type Entry = PartialEvent | typeof HANDLED;

const NOTHING_HANDLED: ReadonlySet<string> = new Set();

export interface MemoryIdempotencyStoreOptions {
  /** How long a handled event is remembered, in milliseconds. */
  readonly windowMs: number;
  /** The most events remembered; the least recently seen go first beyond it, so memory stays flat. */
  readonly maxEvents: number;
}

/**
 * The default store: one process's memory, bounded by `maxEvents` and expiring after the dedup
 * window (an LRU cache from `lru-cache`). Right for a single instance; use the Redis store for several.
 */
export class MemoryIdempotencyStore implements KeplarsIdempotencyStore {
  private readonly events: LRUCache<string, Entry>;
  private nextToken = 1;

  constructor(options: MemoryIdempotencyStoreOptions) {
    this.events = new LRUCache<string, Entry>({ max: options.maxEvents, ttl: options.windowMs });
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    const entry = this.events.get(eventId);
    if (entry === HANDLED) return DONE;
    const now = Date.now();
    if (entry !== undefined && entry.lockExpiresAt > now) return BUSY;

    const token = this.nextToken++;
    if (entry === undefined) {
      this.events.set(eventId, { handled: undefined, lockToken: token, lockExpiresAt: now + lockMs });
      return { state: 'claimed', token: String(token), handled: NOTHING_HANDLED };
    }
    entry.lockToken = token;
    entry.lockExpiresAt = now + lockMs;
    return { state: 'claimed', token: String(token), handled: entry.handled ? new Set(entry.handled) : NOTHING_HANDLED };
  }

  async settle(eventId: string, token: string, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    if (complete) {
      this.events.set(eventId, HANDLED, { ttl: windowMs });
      return;
    }
    let entry = this.events.get(eventId);
    if (entry === HANDLED) return;
    if (entry === undefined) {
      // Evicted while the handlers ran: keep what succeeded.
      entry = { handled: undefined, lockToken: 0, lockExpiresAt: 0 };
      this.events.set(eventId, entry, { ttl: windowMs });
    }
    for (const handler of succeeded) (entry.handled ??= new Set()).add(handler);
    if (String(entry.lockToken) === token) entry.lockExpiresAt = 0;
  }
}
