import { pick, seededRandom } from '../../../../../test/support/seeded-random.js';
import { EventLocks } from './event-locks.js';

describe('EventLocks', () => {
  it('locks an id once until its lock is released or lapses', () => {
    const locks = new EventLocks();
    expect(locks.acquire('evt_1', 1, 0, 1_000)).toBe(true);
    expect(locks.acquire('evt_1', 2, 999, 2_000)).toBe(false);
    expect(locks.acquire('evt_1', 3, 1_000, 2_000)).toBe(true); // lapsed: taken over
    locks.release('evt_1', 1); // the first holder's token no longer holds it
    expect(locks.acquire('evt_1', 4, 1_500, 3_000)).toBe(false);
    locks.release('evt_1', 3);
    expect(locks.acquire('evt_1', 5, 1_500, 3_000)).toBe(true);
    locks.release('evt_1', 0); // any holder
    expect(locks.acquire('evt_1', 6, 1_500, 3_000)).toBe(true);
  });

  it('behaves like a plain map of locks under 300,000 seeded operations (growth, lapses, stale releases)', () => {
    const random = seededRandom(7);
    const locks = new EventLocks();
    const model = new Map<string, { token: number; expiresAt: number }>();
    const ids = Array.from({ length: 3_000 }, (_, i) => `evt_${i}`); // beyond the initial 1,024 slots
    let now = 1;
    let token = 1;
    for (let step = 0; step < 300_000; step++) {
      now += random() < 0.1 ? 1 : 0;
      const id = pick(random, ids);
      const held = model.get(id);
      if (random() < 0.7) {
        const expected = !(held && held.expiresAt > now);
        const expiresAt = now + 1 + Math.floor(random() * 300);
        token++;
        if (locks.acquire(id, token, now, expiresAt) !== expected) throw new Error(`step ${step}: acquire(${id}) should be ${expected}`);
        if (expected) model.set(id, { token, expiresAt });
      } else {
        const releasing = held && random() < 0.8 ? held.token : token + 1; // sometimes a stale token
        locks.release(id, releasing);
        if (held?.token === releasing) model.delete(id);
      }
    }
  });
});
