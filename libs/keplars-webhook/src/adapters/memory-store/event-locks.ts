import { FingerprintTable } from './fingerprint-table.js';

const INITIAL_SLOTS = 1024;

/**
 * The events some delivery is handling now, each with the token of that delivery and the time its
 * lock lapses (so a delivery that never settles cannot block its event for good). Few at a time: as
 * many as requests in flight. The table grows when it is half full, dropping lapsed locks as it
 * does, and taking and releasing a lock allocates nothing.
 */
export class EventLocks extends FingerprintTable {
  // Slot columns: fingerprint high, low, lock expiry in ms, token.
  private size = 0;

  constructor() {
    super(INITIAL_SLOTS, 4);
  }

  /**
   * Locks `id` until `expiresAt` (ms) for the delivery holding `token` (a positive integer), unless
   * another delivery holds a lock on it that has not lapsed by `now`. Whether it was locked.
   */
  acquire(id: string, token: number, now: number, expiresAt: number): boolean {
    this.fingerprint(id);
    let slot = this.find();
    if (slot >= 0 && this.table[slot * 4 + 2]! > now) return false;
    if (slot < 0) {
      if (this.size + 1 > (this.mask + 1) / 2) {
        const { h1, h2 } = this;
        this.rebuild(now); // hashes the locks it moves: restore this id's fingerprint
        this.h1 = h1;
        this.h2 = h2;
      }
      slot = this.insert();
      this.size++;
    }
    this.table[slot * 4 + 2] = Math.max(expiresAt, 1);
    this.table[slot * 4 + 3] = token;
    return true;
  }

  /**
   * Moves the expiry of the lock `token` holds on `id` to `expiresAt`; whether `token` still held it
   * (a lapsed lock that no other delivery took counts: nothing ran meanwhile).
   */
  extend(id: string, token: number, expiresAt: number): boolean {
    this.fingerprint(id);
    const slot = this.find();
    if (slot < 0 || this.table[slot * 4 + 3] !== token) return false;
    this.table[slot * 4 + 2] = Math.max(expiresAt, 1);
    return true;
  }

  /** Releases the lock on `id` if the delivery holding `token` still holds it; any lock with `token` 0. */
  release(id: string, token: number): void {
    this.fingerprint(id);
    const slot = this.find();
    if (slot < 0 || (token !== 0 && this.table[slot * 4 + 3] !== token)) return;
    this.removeAt(slot);
    this.size--;
  }

  /** Moves the locks that have not lapsed into a table sized for twice as many, at least the initial size. */
  private rebuild(now: number): void {
    const old = this.table;
    let live = 0;
    for (let slot = 0; slot < old.length; slot += 4) if (old[slot + 2]! > now) live++;
    const slots = Math.max(INITIAL_SLOTS, FingerprintTable.slotsFor(live * 2));
    this.table = new Float64Array(slots * 4);
    this.mask = slots - 1;
    this.size = 0;
    for (let slot = 0; slot < old.length; slot += 4) {
      if (!(old[slot + 2]! > now)) continue;
      this.h1 = old[slot]!;
      this.h2 = old[slot + 1]!;
      this.table.set(old.subarray(slot, slot + 4), this.insert() * 4);
      this.size++;
    }
  }
}
