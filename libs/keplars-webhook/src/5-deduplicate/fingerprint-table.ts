/**
 * A hash table keyed by 64-bit fingerprints of event ids, its slots side by side in one
 * `Float64Array`: finding, adding and removing an id allocates nothing on the V8 heap. The base of
 * the memory store's two tables, {@link HandledEventSet} and {@link EventLocks}.
 *
 * Why not a `Map`: under a steady stream of new ids, a `Map` that gains and loses an entry per
 * request reallocates its backing table over and over, and V8 promotes that garbage to its old
 * generation; in `npm run bench:memory` it raised the module's peak RSS on Fastify by about 45 MB.
 *
 * Slot i is `table[i * width ...]`: the fingerprint's high and low halves, then the subclass's
 * values. A slot is empty when its first value (column 2) is 0, so subclasses keep that value
 * non-zero (an expiry time in ms) for as long as the slot is in use. Two ids share a fingerprint
 * with a probability of about 2^-64 per pair.
 */
export abstract class FingerprintTable {
  protected table: Float64Array;
  protected mask: number;
  // The fingerprint of the id last hashed (two 32-bit halves), kept here to avoid allocating a pair.
  protected h1 = 0;
  protected h2 = 0;

  protected constructor(
    slots: number,
    protected readonly width: number,
  ) {
    this.table = new Float64Array(slots * width);
    this.mask = slots - 1;
  }

  /** The number of slots (a power of two) that holds `entries` at most half full, so probes stay short. */
  protected static slotsFor(entries: number): number {
    return 2 ** Math.ceil(Math.log2(Math.max(2, entries * 2)));
  }

  /** The slot holding the current fingerprint, or -1. */
  protected find(): number {
    const { h1, h2, table, mask, width } = this;
    for (let slot = h2 & mask; table[slot * width + 2] !== 0; slot = (slot + 1) & mask) {
      if (table[slot * width + 1] === h2 && table[slot * width] === h1) return slot;
    }
    return -1;
  }

  /** Writes the current fingerprint into a free slot and returns it; the caller sets the values, column 2 non-zero. */
  protected insert(): number {
    const { table, mask, width } = this;
    let slot = this.h2 & mask;
    while (table[slot * width + 2] !== 0) slot = (slot + 1) & mask;
    table[slot * width] = this.h1;
    table[slot * width + 1] = this.h2;
    return slot;
  }

  /** Empties a slot, moving later entries of its probe run back so that every entry stays findable. */
  protected removeAt(hole: number): void {
    const { table, mask, width } = this;
    for (let slot = (hole + 1) & mask; table[slot * width + 2] !== 0; slot = (slot + 1) & mask) {
      const home = table[slot * width + 1]! & mask;
      // The entry may move into the hole only if its home slot is not between the hole and itself.
      const stays = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
      if (stays) continue;
      table.copyWithin(hole * width, slot * width, slot * width + width);
      hole = slot;
    }
    table[hole * width + 2] = 0;
  }

  /**
   * Two 32-bit hashes of the id's UTF-16 code units (FNV-1a and a multiply-xorshift), mixed into the
   * two halves so that no bit of either is lost: each step below can be undone, so distinct (a, b)
   * give distinct fingerprints. (Mixing them as `a ^ b * k` and `a ^ b`, with `k` odd, made the two
   * inputs agree in their lowest two bits: 62 bits at most.)
   */
  protected fingerprint(id: string): void {
    let a = 0x811c9dc5;
    let b = 0x2545f491 ^ id.length;
    for (let i = 0; i < id.length; i++) {
      const code = id.charCodeAt(i);
      a = Math.imul(a ^ code, 0x01000193);
      b = Math.imul(b ^ code, 0x5bd1e995);
      b ^= b >>> 13;
    }
    this.h1 = finalize(a ^ finalize(b)) >>> 0;
    this.h2 = finalize(b ^ this.h1) >>> 0;
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
