/** Counts by label (status codes, outcomes, families), printed in a stable order. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(label: string | number, by = 1): void {
    const key = String(label);
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  get(label: string | number): number {
    return this.counts.get(String(label)) ?? 0;
  }

  get total(): number {
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  /** `200: 12, 401: 3, closed: 1`: numbers first, ascending, then words. */
  toString(): string {
    const keys = [...this.counts.keys()].sort((a, b) => {
      const [na, nb] = [Number(a), Number(b)];
      if (Number.isNaN(na) !== Number.isNaN(nb)) return Number.isNaN(na) ? 1 : -1;
      return Number.isNaN(na) ? a.localeCompare(b) : na - nb;
    });
    return keys.map((key) => `${key}: ${this.counts.get(key)}`).join(', ') || '(none)';
  }
}

/** Every own property name of `Object.prototype`, in this realm and in Node's own (outside Jest's sandbox). */
export function objectPrototypeSnapshot(): string[] {
  let outer: object = process;
  for (let proto = Object.getPrototypeOf(outer); proto !== null; proto = Object.getPrototypeOf(proto)) outer = proto;
  const names = (target: object, realm: string) => Reflect.ownKeys(target).map((key) => `${realm}:${String(key)}`);
  return [...names(Object.prototype, 'jest'), ...(outer === Object.prototype ? [] : names(outer, 'node'))].sort();
}
