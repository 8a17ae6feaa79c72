/**
 * The ids of handled events, as 64-bit fingerprints in typed arrays allocated once: memory stays the
 * same however many events pass, and remembering an event allocates nothing the garbage collector
 * must later sweep. (An on-heap cache keeps every id string and map entry alive until it is
 * evicted, by which time it sits in V8's old generation; under a steady stream of new ids, that
 * garbage grew peak RSS by 60 to 100 MB in `npm run bench:memory`.)
 *
 * Beyond `capacity`, the oldest entry is forgotten first; an entry also lapses after its time to live.
 * Two ids share a fingerprint with a probability of about 2^-64 per pair: far below any other cause
 * of a lost event, and ids only come from correctly signed requests.
 */
export class HandledEventSet {
  // Open addressing with linear probing. Slot i is table[3i .. 3i+2]: the fingerprint's high and low
  // halves and the expiry (ms), side by side so that a probe reads one cache line; empty when the expiry is 0.
  private readonly table: Float64Array;
  private readonly mask: number;
  // Insertion order (fingerprint halves), to forget the oldest first.
  private readonly order: Uint32Array;
  private oldest = 0;
  private size = 0;
  // The fingerprint of the id last hashed (two 32-bit halves), to avoid allocating a pair.
  private h1 = 0;
  private h2 = 0;

  constructor(private readonly capacity: number) {
    // At most half full, so probes stay short.
    const slots = 2 ** Math.ceil(Math.log2(Math.max(2, capacity * 2)));
    this.table = new Float64Array(slots * 3);
    this.mask = slots - 1;
    this.order = new Uint32Array(capacity * 2);
  }

  /** Whether `id` was added and has not lapsed by `now` (ms). */
  has(id: string, now: number): boolean {
    this.fingerprint(id);
    const slot = this.find();
    return slot >= 0 && this.table[slot * 3 + 2]! > now;
  }

  /** Remembers `id` until `expiresAt` (ms); an id already present only gets the new expiry. */
  add(id: string, expiresAt: number): void {
    this.fingerprint(id);
    const existing = this.find();
    if (existing >= 0) {
      this.table[existing * 3 + 2] = expiresAt;
      return;
    }
    const { h1, h2 } = this;
    if (this.size === this.capacity) this.forgetOldest(); // hashes another id: h1 and h2 are kept above
    let slot = h2 & this.mask;
    while (this.table[slot * 3 + 2] !== 0) slot = (slot + 1) & this.mask;
    this.table[slot * 3] = h1;
    this.table[slot * 3 + 1] = h2;
    this.table[slot * 3 + 2] = Math.max(expiresAt, 1);
    const position = (this.oldest + this.size) % this.capacity;
    this.order[position * 2] = h1;
    this.order[position * 2 + 1] = h2;
    this.size++;
  }

  private forgetOldest(): void {
    this.h1 = this.order[this.oldest * 2]!;
    this.h2 = this.order[this.oldest * 2 + 1]!;
    this.oldest = (this.oldest + 1) % this.capacity;
    this.size--;
    const slot = this.find();
    if (slot >= 0) this.removeAt(slot);
  }

  /** The slot holding the current fingerprint, or -1. */
  private find(): number {
    const { h1, h2 } = this;
    const { table, mask } = this;
    for (let slot = h2 & mask; table[slot * 3 + 2] !== 0; slot = (slot + 1) & mask) {
      if (table[slot * 3 + 1] === h2 && table[slot * 3] === h1) return slot;
    }
    return -1;
  }

  /** Empties a slot, moving later entries of its probe run back so that every entry stays findable. */
  private removeAt(hole: number): void {
    const { table, mask } = this;
    for (let slot = (hole + 1) & mask; table[slot * 3 + 2] !== 0; slot = (slot + 1) & mask) {
      const home = table[slot * 3 + 1]! & mask;
      // The entry may move into the hole only if its home slot is not between the hole and itself.
      const stays = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (stays) continue;
      table.copyWithin(hole * 3, slot * 3, slot * 3 + 3);
      hole = slot;
    }
    table[hole * 3 + 2] = 0;
  }

  /** Two independent 32-bit hashes of the id's UTF-16 code units (FNV-1a and a multiply-xorshift), each finalised. */
  private fingerprint(id: string): void {
    let a = 0x811c9dc5;
    let b = 0x2545f491 ^ id.length;
    for (let i = 0; i < id.length; i++) {
      const code = id.charCodeAt(i);
      a = Math.imul(a ^ code, 0x01000193);
      b = Math.imul(b ^ code, 0x5bd1e995);
      b ^= b >>> 13;
    }
    this.h1 = finalize(a ^ Math.imul(b, 0x27d4eb2d)) >>> 0;
    this.h2 = finalize(b ^ a) >>> 0;
  }
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
