import { FingerprintTable } from './fingerprint-table.js';

/** The table's fingerprint of an id, as the memory store's tables compute it. */
class Fingerprints extends FingerprintTable {
  constructor() {
    super(2, 3);
  }
  of(id: string): [number, number] {
    this.fingerprint(id);
    return [this.h1, this.h2];
  }
}

// The inverse of MurmurHash3's 32-bit finaliser, to look at what went into each half.
const inverse = (odd: number): number => {
  let x = odd;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x));
  return x;
};
const unshift = (h: number, shift: number): number => {
  let x = h;
  for (let bits = shift; bits < 32; bits += shift) x = h ^ (x >>> shift);
  return x;
};
const unfinalize = (h: number): number => {
  h = unshift(h, 16);
  h = Math.imul(h, inverse(0xc2b2ae35));
  h = unshift(h, 13);
  h = Math.imul(h, inverse(0x85ebca6b));
  return unshift(h, 16) >>> 0;
};

describe('the memory store fingerprint', () => {
  it('mixes its two halves from inputs that differ in every bit, the lowest two included (64 bits, not 62)', () => {
    const fingerprints = new Fingerprints();
    const lowBits = new Set<number>();
    for (let i = 0; i < 1_000; i++) {
      const [h1, h2] = fingerprints.of(`evt_${i.toString(36)}`);
      lowBits.add((unfinalize(h1) ^ unfinalize(h2)) & 3);
    }
    expect([...lowBits].sort()).toEqual([0, 1, 2, 3]);
  });
});
