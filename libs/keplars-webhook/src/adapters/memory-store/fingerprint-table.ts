import { getRandomValues } from 'node:crypto';

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
 * non-zero (an expiry time in ms) for as long as the slot is in use.
 *
 * The fingerprint is HalfSipHash-2-4 (64-bit output) of the id's UTF-16 code units, under a key drawn
 * at random for each table: two ids share a fingerprint with a probability of about 2^-64 per pair,
 * and since nobody outside the process knows the key, nobody can search for such a pair offline (a
 * signer who controls ids could otherwise make its own second event a false duplicate).
 */
export abstract class FingerprintTable {
  protected table: Float64Array;
  protected mask: number;
  // The fingerprint of the id last hashed (two 32-bit halves), kept here to avoid allocating a pair.
  protected h1 = 0;
  protected h2 = 0;
  /** The id hashed last and its fingerprint: a delivery asks a table about the same id twice (claim, then settle). */
  private lastId: string | undefined;
  private lastH1 = 0;
  private lastH2 = 0;
  /** The table's secret key, two 32-bit words. */
  private readonly k0: number;
  private readonly k1: number;
  // HalfSipHash's state while an id is hashed: fields, so that hashing allocates nothing.
  private v0 = 0;
  private v1 = 0;
  private v2 = 0;
  private v3 = 0;

  /** @param key the fingerprint's key, two 32-bit words (for tests); @default random, per table */
  protected constructor(
    slots: number,
    protected readonly width: number,
    key: readonly [number, number] = randomKey(),
  ) {
    this.table = new Float64Array(slots * width);
    this.mask = slots - 1;
    [this.k0, this.k1] = key;
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
   * HalfSipHash-2-4 with a 64-bit output, over the id's UTF-16 code units as little-endian bytes (two
   * units a 32-bit word), keyed by the table's key: sets `h1` (output word 0) and `h2` (word 1).
   */
  protected fingerprint(id: string): void {
    if (id === this.lastId) {
      this.h1 = this.lastH1;
      this.h2 = this.lastH2;
      return;
    }
    const length = id.length;
    this.v0 = this.k0;
    this.v1 = this.k1 ^ 0xee; // 0xee: the 64-bit output variant
    this.v2 = 0x6c796765 ^ this.k0;
    this.v3 = 0x74656462 ^ this.k1;
    let i = 0;
    for (; i + 1 < length; i += 2) {
      const word = id.charCodeAt(i) | (id.charCodeAt(i + 1) << 16);
      this.v3 ^= word;
      this.rounds(2);
      this.v0 ^= word;
    }
    const last = ((length * 2) << 24) | (i < length ? id.charCodeAt(i) : 0); // the byte length's low byte, then what is left
    this.v3 ^= last;
    this.rounds(2);
    this.v0 ^= last;
    this.v2 ^= 0xee;
    this.rounds(4);
    this.h1 = (this.v1 ^ this.v3) >>> 0;
    this.v1 ^= 0xdd;
    this.rounds(4);
    this.h2 = (this.v1 ^ this.v3) >>> 0;
    this.lastId = id;
    this.lastH1 = this.h1;
    this.lastH2 = this.h2;
  }

  /** `n` SipRounds of HalfSipHash on the state. */
  private rounds(n: number): void {
    let { v0, v1, v2, v3 } = this;
    for (let round = 0; round < n; round++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
    this.v0 = v0;
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
  }
}

function rotl(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}

/** Two random 32-bit words, once per table. */
function randomKey(): [number, number] {
  const words = getRandomValues(new Uint32Array(2));
  return [words[0]!, words[1]!];
}
