import { FingerprintTable } from './fingerprint-table.js';

/**
 * The ids of handled events, in tables allocated once: memory stays the same however many events
 * pass, and remembering an event allocates nothing the garbage collector must later sweep. (An
 * on-heap cache keeps every id string and map entry alive until it is evicted, by which time it sits
 * in V8's old generation; under a steady stream of new ids, that garbage grew peak RSS by 60 to
 * 100 MB in `npm run bench:memory`.)
 *
 * Beyond `capacity`, the oldest entry is forgotten first; an entry also lapses after its time to live.
 * Ids only come from correctly signed requests, and a fingerprint collision (about 2^-64 a pair,
 * under a key of this table's own that no one outside can search with) is far below any other cause
 * of a lost event.
 */
export class HandledEventSet extends FingerprintTable {
  // Slot columns: fingerprint high, low, expiry in ms.
  // Insertion order (fingerprint halves), to forget the oldest first.
  private readonly order: Uint32Array;
  private oldest = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    super(FingerprintTable.slotsFor(capacity), 3);
    this.order = new Uint32Array(capacity * 2);
  }

  /** Whether `id` was added and has not lapsed by `now` (ms). */
  has(id: string, now: number): boolean {
    this.fingerprint(id);
    const slot = this.find();
    return slot >= 0 && this.table[slot * 3 + 2]! > now;
  }

  /**
   * Remembers `id` until `expiresAt` (ms); an id already present only gets the new expiry. Whether
   * making room forgot an entry that had not lapsed by `now`: its window was cut short.
   */
  add(id: string, expiresAt: number, now: number): boolean {
    this.fingerprint(id);
    const existing = this.find();
    if (existing >= 0) {
      this.table[existing * 3 + 2] = expiresAt;
      return false;
    }
    const { h1, h2 } = this;
    let forgotEarly = false;
    if (this.size === this.capacity) {
      forgotEarly = this.forgetOldest(now); // hashes another id: restore this one's fingerprint
      this.h1 = h1;
      this.h2 = h2;
    }
    const slot = this.insert();
    this.table[slot * 3 + 2] = Math.max(expiresAt, 1);
    const position = (this.oldest + this.size) % this.capacity;
    this.order[position * 2] = h1;
    this.order[position * 2 + 1] = h2;
    this.size++;
    return forgotEarly;
  }

  /** Forgets the oldest entry; whether it was still live at `now`. */
  private forgetOldest(now: number): boolean {
    this.h1 = this.order[this.oldest * 2]!;
    this.h2 = this.order[this.oldest * 2 + 1]!;
    this.oldest = (this.oldest + 1) % this.capacity;
    this.size--;
    const slot = this.find();
    if (slot < 0) return false;
    const live = this.table[slot * 3 + 2]! > now;
    this.removeAt(slot);
    return live;
  }
}
