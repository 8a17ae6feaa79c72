import { randomBytes } from 'node:crypto';
import { pick, seededRandom } from '../../../../../test/support/seeded-random.js';
import { HandledEventSet } from './handled-event-set.js';

describe('HandledEventSet', () => {
  it('remembers ids until they lapse', () => {
    const set = new HandledEventSet(10);
    set.add('evt_1', 1_000, 0);
    expect(set.has('evt_1', 999)).toBe(true);
    expect(set.has('evt_1', 1_000)).toBe(false);
    expect(set.has('evt_2', 0)).toBe(false);
    set.add('evt_1', 5_000, 0);
    expect(set.has('evt_1', 4_000)).toBe(true);
  });

  it('forgets the oldest first beyond its capacity', () => {
    const set = new HandledEventSet(3);
    for (const id of ['a', 'b', 'c', 'd']) set.add(id, 1_000, 0);
    expect(['a', 'b', 'c', 'd'].map((id) => set.has(id, 0))).toEqual([false, true, true, true]);
  });

  it('says when making room forgot an entry that had not lapsed yet', () => {
    const set = new HandledEventSet(2);
    expect([set.add('a', 100, 0), set.add('b', 1_000, 0)]).toEqual([false, false]);
    expect(set.add('c', 1_000, 50)).toBe(true); // 'a' lives until 100
    expect(set.add('d', 2_000, 1_000)).toBe(false); // 'b' lapsed at 1,000
  });

  it('behaves like a plain FIFO map under 200,000 seeded operations (collisions, wrap-around, removals)', () => {
    const random = seededRandom(99);
    const capacity = 64; // small, so probe runs cross the table's end and removals shift entries back
    const set = new HandledEventSet(capacity);
    const model = new Map<string, number>(); // insertion-ordered, like the set's own order
    const ids = Array.from({ length: 300 }, (_, i) => `evt_${i}`);
    let now = 0;
    for (let step = 0; step < 200_000; step++) {
      now += 1;
      const id = pick(random, ids);
      if (random() < 0.5) {
        const expiresAt = now + 1 + Math.floor(random() * 2_000);
        if (model.has(id)) model.set(id, expiresAt);
        else {
          if (model.size === capacity) model.delete(model.keys().next().value!);
          model.set(id, expiresAt);
        }
        set.add(id, expiresAt, now);
      } else {
        const expected = (model.get(id) ?? 0) > now;
        if (set.has(id, now) !== expected) throw new Error(`step ${step}: has(${id}) should be ${expected}`);
      }
    }
  });

  // With only 32 good bits, 200,000 ids would give about 5 false hits; with 64, about 10^-9.
  it('gives 200,000 random ids distinct fingerprints', () => {
    const set = new HandledEventSet(200_000);
    const prefix = randomBytes(4).toString('hex');
    let falseHits = 0;
    for (let i = 0; i < 200_000; i++) {
      const id = `evt_${prefix}${i.toString(36)}`;
      if (set.has(id, 0)) falseHits++;
      set.add(id, 1, 0);
    }
    expect(falseHits).toBe(0);
  });
});
