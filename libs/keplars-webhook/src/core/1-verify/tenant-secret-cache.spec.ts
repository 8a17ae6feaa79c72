import { TenantLookupsThrottledError, TenantSecretCache, TenantSecretLookupError } from './tenant-secret-cache.js';

/** A resolver over a table the test edits, counting its calls per tenant. */
function resolverOver(table: Record<string, unknown>, delayMs = 0) {
  const calls = new Map<string, number>();
  const resolve = async (tenant: string) => {
    calls.set(tenant, (calls.get(tenant) ?? 0) + 1);
    if (delayMs > 0) await new Promise((done) => setTimeout(done, delayMs));
    const answer = table[tenant];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { resolve, calls };
}

describe('TenantSecretCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('answers a tenant’s secrets, a list as a list, and an unknown tenant as none', async () => {
    const { resolve } = resolverOver({ acme: 's_acme', rotating: ['s_new', 's_old'], blank: '  ', nulled: null, listless: [] });
    const cache = new TenantSecretCache(resolve, { ttlMs: 1000, maxTenants: 10, timeoutMs: 1000, now });
    expect(await cache.secretsOf('acme')).toEqual(['s_acme']);
    expect(await cache.secretsOf('rotating')).toEqual(['s_new', 's_old']);
    for (const tenant of ['missing', 'blank', 'nulled', 'listless']) expect(await cache.secretsOf(tenant)).toEqual([]);
  });

  it('calls the resolver once per tenant per cache period, however many ask at once, and again after it', async () => {
    const { resolve, calls } = resolverOver({ acme: 's1' }, 20);
    const cache = new TenantSecretCache(resolve, { ttlMs: 1000, maxTenants: 10, timeoutMs: 1000, now });
    const answers = await Promise.all(Array.from({ length: 100 }, () => cache.secretsOf('acme')));
    expect(new Set(answers.map((answer) => answer.join()))).toEqual(new Set(['s1']));
    await cache.secretsOf('acme');
    expect(calls.get('acme')).toBe(1);
    clock += 999;
    await cache.secretsOf('acme');
    expect(calls.get('acme')).toBe(1);
    clock += 1;
    await Promise.all([cache.secretsOf('acme'), cache.secretsOf('acme')]);
    expect(calls.get('acme')).toBe(2);
  });

  it('takes a rotated secret once the cache period is over', async () => {
    const table: Record<string, unknown> = { acme: 'old' };
    const cache = new TenantSecretCache(resolverOver(table).resolve, { ttlMs: 1000, maxTenants: 10, timeoutMs: 1000, now });
    expect(await cache.secretsOf('acme')).toEqual(['old']);
    table.acme = 'new';
    expect(await cache.secretsOf('acme')).toEqual(['old']);
    clock += 1000;
    expect(cache.cached('acme')).toBeUndefined();
    expect(await cache.secretsOf('acme')).toEqual(['new']);
  });

  it('keeps at most maxTenants tenants with a secret, dropping the longest cached first', async () => {
    const { resolve, calls } = resolverOver(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`tenant_${i}`, `s_${i}`])));
    const cache = new TenantSecretCache(resolve, { ttlMs: 60_000, maxTenants: 100, timeoutMs: 1000, now });
    for (let i = 0; i < 1000; i++) await cache.secretsOf(`tenant_${i}`);
    expect(cache.size).toBe(100);
    expect(cache.cached('tenant_899')).toBeUndefined();
    expect(cache.cached('tenant_900')).toEqual(['s_900']);
    await cache.secretsOf('tenant_0');
    expect(calls.get('tenant_0')).toBe(2);
  });

  it('keeps "no such tenant" apart, in its own smaller bound: made-up ids never push a known tenant out', async () => {
    const { resolve, calls } = resolverOver({ acme: 's_acme' });
    const cache = new TenantSecretCache(resolve, { ttlMs: 60_000, maxTenants: 100, maxLookupsPerSecond: 1e9, timeoutMs: 1000, now });
    await cache.secretsOf('acme');
    for (let i = 0; i < 1000; i++) expect(await cache.secretsOf(`made_up_${i}`)).toEqual([]);
    expect(cache.cached('acme')).toEqual(['s_acme']);
    expect(cache.size).toBe(1 + 10); // a tenth of maxTenants for unknown ids
    expect(cache.cached('made_up_989')).toBeUndefined();
    expect(cache.cached('made_up_990')).toEqual([]);
    expect(calls.get('acme')).toBe(1);
  });

  it('bounds the lookups of ids without a known secret: a flood of made-up ids is refused beyond maxLookupsPerSecond', async () => {
    const { resolve, calls } = resolverOver({ acme: 's_acme', ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`real_${i}`, `s_${i}`])) }, 5);
    const cache = new TenantSecretCache(resolve, { ttlMs: 1000, maxTenants: 100, maxLookupsPerSecond: 10, timeoutMs: 1000, now });
    await cache.secretsOf('acme');
    const flood = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => cache.secretsOf(`made_up_${i}`)));
    expect(calls.size).toBe(1 + 10);
    expect(flood.filter((answer) => answer.status === 'rejected').map((answer) => (answer as PromiseRejectedResult).reason)).toEqual(
      Array.from({ length: 90 }, () => expect.any(TenantLookupsThrottledError)),
    );
    // A known tenant is looked up again whatever the flood.
    clock += 1000; // its answer expired, and the bucket refilled: a second flood empties it again
    for (let i = 0; i < 100; i++) await cache.secretsOf(`more_made_up_${i}`).catch(() => undefined);
    expect(await cache.secretsOf('acme')).toEqual(['s_acme']);
    expect(calls.get('acme')).toBe(2);
    // Refilled at the rate: a tenth of a second, one more lookup.
    clock += 100;
    await cache.secretsOf('made_up_x');
    await expect(cache.secretsOf('made_up_y')).rejects.toBeInstanceOf(TenantLookupsThrottledError);
  });

  it('gives a lookup that finds a secret its place back: many real tenants can be looked up after a restart', async () => {
    const { resolve, calls } = resolverOver(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`real_${i}`, `s_${i}`])));
    const cache = new TenantSecretCache(resolve, { ttlMs: 1000, maxTenants: 100, maxLookupsPerSecond: 10, timeoutMs: 1000, now });
    for (let i = 0; i < 50; i++) expect(await cache.secretsOf(`real_${i}`)).toEqual([`s_${i}`]);
    expect(calls.size).toBe(50);
  });

  it('rejects when the resolver throws, times out or answers nonsense, and caches none of it', async () => {
    const table: Record<string, unknown> = { down: new Error('connection refused'), odd: 42, partial: ['ok', 7] };
    const { resolve, calls } = resolverOver(table);
    const slow = () => new Promise(() => {}); // never answers
    const cache = new TenantSecretCache((tenant) => (tenant === 'slow' ? slow() : resolve(tenant)), { ttlMs: 1000, maxTenants: 10, timeoutMs: 30, now });
    await expect(cache.secretsOf('down')).rejects.toBeInstanceOf(TenantSecretLookupError);
    await expect(cache.secretsOf('down')).rejects.toThrow('resolveSecret threw: connection refused');
    await expect(cache.secretsOf('slow')).rejects.toThrow(/no answer within 30 ms \(tenants.timeoutMs\)/);
    await expect(cache.secretsOf('odd')).rejects.toThrow(/must return a string, a list of strings, or undefined/);
    await expect(cache.secretsOf('partial')).rejects.toThrow(/must return a string/);
    table.down = 'back';
    expect(await cache.secretsOf('down')).toEqual(['back']);
    expect(calls.get('down')).toBe(3);
  });

  it('survives a resolver that throws synchronously', async () => {
    const cache = new TenantSecretCache(
      () => {
        throw new Error('sync');
      },
      { ttlMs: 1000, maxTenants: 10, timeoutMs: 1000, now },
    );
    await expect(cache.secretsOf('acme')).rejects.toThrow(/resolveSecret threw: sync/);
  });
});
