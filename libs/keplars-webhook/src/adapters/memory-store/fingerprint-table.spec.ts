import { FingerprintTable } from './fingerprint-table.js';

/** The table's fingerprint of an id, as the memory store's tables compute it. */
class Fingerprints extends FingerprintTable {
  constructor(key?: readonly [number, number]) {
    super(2, 3, key);
  }
  of(id: string): [number, number] {
    this.fingerprint(id);
    return [this.h1, this.h2];
  }
}

/** An id whose UTF-16LE bytes are 0, 1, 2, … (`bytes` even), as the reference test vectors hash. */
const idOfBytes = (bytes: number): string => String.fromCharCode(...Array.from({ length: bytes / 2 }, (_, unit) => (2 * unit) | ((2 * unit + 1) << 8)));
/** An 8-byte little-endian output of the reference vectors, as the table's two words. */
const words = (hex: string): [number, number] => {
  const bytes = Buffer.from(hex.replaceAll(' ', ''), 'hex');
  return [bytes.readUInt32LE(0), bytes.readUInt32LE(4)];
};

describe('the memory store fingerprint', () => {
  it('is HalfSipHash-2-4 with a 64-bit output: the reference vectors (key 00 01 … 07)', () => {
    const fingerprints = new Fingerprints([0x03020100, 0x07060504]);
    // vectors_hsip64 of the SipHash reference implementation, inputs of 0, 2, 4, 6, 8 and 10 bytes.
    expect(fingerprints.of(idOfBytes(0))).toEqual(words('21 8d 1f 59 b9 b8 3c c8'));
    expect(fingerprints.of(idOfBytes(2))).toEqual(words('06 4f 39 ef 7c 50 eb 57'));
    expect(fingerprints.of(idOfBytes(4))).toEqual(words('d5 e7 8a 17 5b e5 2e a1'));
    expect(fingerprints.of(idOfBytes(6))).toEqual(words('ce 3e 91 35 8a a2 bc 25'));
    expect(fingerprints.of(idOfBytes(8))).toEqual(words('ed fe e8 20 bc e4 85 8c'));
    expect(fingerprints.of(idOfBytes(10))).toEqual(words('95 b0 46 9f 06 a6 f2 ee'));
  });

  it('gives 100,000 distinct ids 100,000 distinct fingerprints', () => {
    const fingerprints = new Fingerprints();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(fingerprints.of(`evt_${i.toString(36)}`).join(':'));
    expect(seen.size).toBe(100_000);
  });
});

describe('the memory store fingerprint is keyed per table (issue 23, point 9)', () => {
  // Unkeyed, a signer who controls event ids could search offline for two ids with one fingerprint
  // and make its second event a false duplicate. With a secret key drawn for each table (each
  // process), the fingerprint of an id cannot be computed outside it.
  it('fingerprints the same ids differently in two tables', () => {
    const [one, other] = [new Fingerprints(), new Fingerprints()];
    for (const id of ['evt_1', 'evt_2', 'email_456', '']) expect(one.of(id)).not.toEqual(other.of(id));
    expect(one.of('evt_1')).toEqual(one.of('evt_1'));
  });
});
