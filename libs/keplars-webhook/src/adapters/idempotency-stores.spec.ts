import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis, deleteKeys, OwnRedisServer, uniqueKeyPrefix } from '../../../../test/support/redis.js';
import type { EventClaim, KeplarsIdempotencyStore } from '../core/ports/idempotency-store.js';
import { MemoryIdempotencyStore } from './memory-store/memory-idempotency.store.js';
import { RedisIdempotencyStore, type KeplarsRedisClient } from './redis-store/redis-idempotency.store.js';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { connectPostgres, dropSchemas, uniqueSchema } from '../../../../test/support/postgres.js';
import { PostgresIdempotencyStore } from './postgres-store/postgres-idempotency.store.js';
import { PgPoolConnection, type KeplarsPgPool } from './postgres-store/pg-pool-connection.js';
import { PGliteConnection, type KeplarsPGlite } from './postgres-store/pglite-connection.js';
import { migrate } from './postgres-store/postgres-migrations.js';
import { postgresTables } from './postgres-store/postgres-schema.js';

const WINDOW_MS = 60_000;
const LOCK_MS = 5_000;

let redis: Redis;
const prefix = uniqueKeyPrefix('stores');
let pool: pg.Pool;
let pglite: PGlite;
const schema = uniqueSchema('stores');
beforeAll(async () => {
  redis = connectRedis();
  pool = connectPostgres();
  pglite = new PGlite();
  await migrate(new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false), postgresTables(schema));
  await migrate(new PGliteConnection(pglite as unknown as KeplarsPGlite, 'PGlite', false), postgresTables(schema));
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await pool.end();
  await pglite.close();
  await dropSchemas(schema);
});

const postgresStore = () => new PostgresIdempotencyStore(new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false), { schema, pruneIntervalMs: 0 });
const pgliteStore = () => new PostgresIdempotencyStore(new PGliteConnection(pglite as unknown as KeplarsPGlite, 'PGlite', false), { schema, pruneIntervalMs: 0 });

const stores: [string, () => KeplarsIdempotencyStore][] = [
  ['memory', () => new MemoryIdempotencyStore({ maxEvents: 1000 })],
  ['redis', () => new RedisIdempotencyStore(redis, { keyPrefix: prefix })],
  ['postgres', postgresStore],
  ['pglite', pgliteStore],
];

const claimed = (claim: EventClaim) => {
  if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
  return claim;
};

describe.each(stores)('the %s store keeps SPEC §4', (_, createStore) => {
  let store: KeplarsIdempotencyStore;
  let eventId: string;
  beforeEach(() => {
    store = createStore();
    eventId = `evt_${randomUUID()}`;
  });

  it('gives a new event to the first delivery, with nothing handled yet', async () => {
    const claim = claimed(await store.claim(eventId, LOCK_MS));
    expect([...claim.handled]).toEqual([]);
  });

  it('answers busy to a second delivery while the first holds the event', async () => {
    claimed(await store.claim(eventId, LOCK_MS));
    expect(await store.claim(eventId, LOCK_MS)).toEqual({ state: 'busy' });
  });

  it('renews the hold of the delivery that holds the event, and only its hold', async () => {
    const claim = claimed(await store.claim(eventId, 150));
    expect(await store.renew!(eventId, claim.token, LOCK_MS)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 250)); // past the first lock: renewed, it still holds
    expect(await store.claim(eventId, LOCK_MS)).toEqual({ state: 'busy' });
    expect(await store.renew!(eventId, typeof claim.token === 'number' ? claim.token + 1 : 'another-token', LOCK_MS)).toBe(false);
    await store.settle(eventId, claim.token, ['A.a'], true, WINDOW_MS);
    expect(await store.renew!(eventId, claim.token, LOCK_MS)).toBe(false);
  });

  it('answers done once every handler succeeded', async () => {
    const claim = claimed(await store.claim(eventId, LOCK_MS));
    await store.settle(eventId, claim.token, ['A.a', 'B.b'], true, WINDOW_MS);
    expect(await store.claim(eventId, LOCK_MS)).toEqual({ state: 'done' });
  });

  it('after a partial failure, hands the next delivery the handlers that already succeeded', async () => {
    const first = claimed(await store.claim(eventId, LOCK_MS));
    await store.settle(eventId, first.token, ['A.a'], false, WINDOW_MS);
    const second = claimed(await store.claim(eventId, LOCK_MS));
    expect([...second.handled]).toEqual(['A.a']);
    await store.settle(eventId, second.token, ['B.b'], false, WINDOW_MS);
    const third = claimed(await store.claim(eventId, LOCK_MS));
    expect([...third.handled].sort()).toEqual(['A.a', 'B.b']);
  });

  it('lets another delivery take over when the lock of its holder expires (the holder died)', async () => {
    claimed(await store.claim(eventId, 50));
    await new Promise((resolve) => setTimeout(resolve, 120));
    claimed(await store.claim(eventId, LOCK_MS));
  });

  it('does not release a lock it no longer holds', async () => {
    const stale = claimed(await store.claim(eventId, 50));
    await new Promise((resolve) => setTimeout(resolve, 120));
    claimed(await store.claim(eventId, LOCK_MS));
    await store.settle(eventId, stale.token, [], false, WINDOW_MS);
    expect(await store.claim(eventId, LOCK_MS)).toEqual({ state: 'busy' });
  });

  it('forgets a handled event after the window', async () => {
    const claim = claimed(await store.claim(eventId, LOCK_MS));
    await store.settle(eventId, claim.token, ['A.a'], true, 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    claimed(await store.claim(eventId, LOCK_MS));
  });

  it('gives one event to exactly one of many concurrent deliveries', async () => {
    const claims = await Promise.all(Array.from({ length: 50 }, () => store.claim(eventId, LOCK_MS)));
    expect(claims.filter((claim) => claim.state === 'claimed')).toHaveLength(1);
  });
});

describe('the memory store stays bounded', () => {
  it('holds a lock for every delivery in flight, however many, and lets each lapse', async () => {
    const store = new MemoryIdempotencyStore({ maxEvents: 10 });
    // The store's clock, moved by hand: how long 5,000 claims take on a busy machine does not matter
    // (with real time, even 1 s locks lapsed before the last claim on a loaded CI machine).
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const ids = Array.from({ length: 5_000 }, (_, i) => `evt_running_${i}`);
      for (const id of ids) claimed(await store.claim(id, 1_000));
      now += 999;
      expect(new Set(await Promise.all(ids.map(async (id) => (await store.claim(id, 1_000)).state)))).toEqual(new Set(['busy']));
      now += 1;
      for (const id of ids) claimed(await store.claim(id, LOCK_MS));
    } finally {
      clock.mockRestore();
    }
  });

  it('remembers the handlers of at most maxEvents partly handled events, forgetting the oldest', async () => {
    const store = new MemoryIdempotencyStore({ maxEvents: 10 });
    for (let i = 0; i < 20; i++) {
      const claim = claimed(await store.claim(`evt_partly_${i}`, LOCK_MS));
      await store.settle(`evt_partly_${i}`, claim.token, ['A.a'], false, WINDOW_MS);
    }
    expect([...claimed(await store.claim('evt_partly_0', LOCK_MS)).handled]).toEqual([]);
    expect([...claimed(await store.claim('evt_partly_19', LOCK_MS)).handled]).toEqual(['A.a']);
  });

  it('remembers at most maxEvents handled events, forgetting the oldest', async () => {
    const store = new MemoryIdempotencyStore({ maxEvents: 100 });
    for (let i = 0; i < 1000; i++) {
      const claim = claimed(await store.claim(`evt_${i}`, LOCK_MS));
      await store.settle(`evt_${i}`, claim.token, [], true, WINDOW_MS);
    }
    expect(await store.claim('evt_999', LOCK_MS)).toEqual({ state: 'done' });
    expect((await store.claim('evt_0', LOCK_MS)).state).toBe('claimed');
  });
});

describe('the Redis store', () => {
  it('writes only under its key prefix, and keys expire with the window', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: prefix });
    const eventId = `evt_${randomUUID()}`;
    const claim = claimed(await store.claim(eventId, LOCK_MS));
    await store.settle(eventId, claim.token, ['A.a'], true, WINDOW_MS);
    const keys = await redis.keys(`*${eventId}*`);
    expect(keys).toEqual([`${prefix}{${eventId}}`]);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(WINDOW_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
  });

  it('rejects quickly, without hanging, when Redis is down; works again when it is back', async () => {
    const server = await OwnRedisServer.start();
    const client = connectRedis(server.url);
    client.on('error', () => undefined);
    const store = new RedisIdempotencyStore(client, { keyPrefix: prefix, operationTimeoutMs: 500 });
    try {
      expect((await store.claim(`evt_${randomUUID()}`, LOCK_MS)).state).toBe('claimed');
      await server.stop();
      const started = Date.now();
      await expect(store.claim(`evt_${randomUUID()}`, LOCK_MS)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3_000);
      await server.start();
      await expect(waitFor(() => store.claim(`evt_${randomUUID()}`, LOCK_MS))).resolves.toMatchObject({ state: 'claimed' });
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  it('sends the claims, and the settles, asked for in one turn of the event loop as one call each', async () => {
    const { client, scriptCalls } = countingScripts(redis);
    const store = new RedisIdempotencyStore(client, { keyPrefix: prefix });
    const ids = Array.from({ length: 20 }, () => `evt_${randomUUID()}`);
    const claims = (await Promise.all(ids.map((id) => store.claim(id, LOCK_MS)))).map(claimed);
    expect(scriptCalls).toEqual([40]); // one call, two keys per event
    await Promise.all(ids.map((id, index) => store.settle(id, claims[index]!.token, ['A.a'], true, WINDOW_MS)));
    expect(scriptCalls).toEqual([40, 40]);
    expect((await Promise.all(ids.map((id) => store.claim(id, LOCK_MS)))).map((claim) => claim.state)).toEqual(ids.map(() => 'done'));
  });

  it('answers each event of one call for itself: done, busy, partly handled, new', async () => {
    const store = new RedisIdempotencyStore(redis, { keyPrefix: prefix });
    const [done, busy, partly, fresh] = Array.from({ length: 4 }, () => `evt_${randomUUID()}`) as [string, string, string, string];
    const first = (await Promise.all([done, busy, partly].map((id) => store.claim(id, LOCK_MS)))).map(claimed);
    await Promise.all([
      store.settle(done, first[0]!.token, ['A.a', 'B.b'], true, WINDOW_MS),
      store.settle(partly, first[2]!.token, ['A.a'], false, WINDOW_MS), // B.b failed
    ]);
    const [onDone, onBusy, onPartly, onFresh] = await Promise.all([done, busy, partly, fresh].map((id) => store.claim(id, LOCK_MS)));
    expect([onDone!.state, onBusy!.state, onPartly!.state, onFresh!.state]).toEqual(['done', 'busy', 'claimed', 'claimed']);
    expect([...claimed(onPartly!).handled]).toEqual(['A.a']);
    expect(claimed(onFresh!).handled.size).toBe(0);
    // Settled together: one partly again (B.b failed once more), one complete; the lock of each is released.
    await Promise.all([store.settle(partly, claimed(onPartly!).token, ['C.c'], false, WINDOW_MS), store.settle(fresh, claimed(onFresh!).token, ['A.a'], true, WINDOW_MS)]);
    const [again, freshAgain] = await Promise.all([store.claim(partly, LOCK_MS), store.claim(fresh, LOCK_MS)]);
    expect([...claimed(again!).handled].sort()).toEqual(['A.a', 'C.c']);
    expect(freshAgain!.state).toBe('done');
  });

  it('sends each event on its own on a Redis Cluster, where two events may live on different nodes', async () => {
    const { client, scriptCalls } = countingScripts(redis, { isCluster: true });
    const store = new RedisIdempotencyStore(client, { keyPrefix: prefix });
    const ids = Array.from({ length: 5 }, () => `evt_${randomUUID()}`);
    const claims = (await Promise.all(ids.map((id) => store.claim(id, LOCK_MS)))).map(claimed);
    await Promise.all(ids.map((id, index) => store.settle(id, claims[index]!.token, ['A.a'], true, WINDOW_MS)));
    expect(scriptCalls).toEqual(ids.flatMap(() => [2]).concat(ids.map(() => 2)));
    expect((await store.claim(ids[0]!, LOCK_MS)).state).toBe('done');
  });

  it('reloads its scripts after Redis lost them (SCRIPT FLUSH, or a restart)', async () => {
    const server = await OwnRedisServer.start();
    const client = connectRedis(server.url);
    try {
      const store = new RedisIdempotencyStore(client, { keyPrefix: prefix });
      await store.claim(`evt_${randomUUID()}`, LOCK_MS);
      await client.script('FLUSH');
      expect((await store.claim(`evt_${randomUUID()}`, LOCK_MS)).state).toBe('claimed');
      await client.script('FLUSH'); // the form for several events at once too
      const claims = await Promise.all([store.claim(`evt_${randomUUID()}`, LOCK_MS), store.claim(`evt_${randomUUID()}`, LOCK_MS)]);
      expect(claims.map((claim) => claim.state)).toEqual(['claimed', 'claimed']);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

/** The client, with the number of keys of each script call it was asked to send. */
function countingScripts(client: Redis, traits: { isCluster?: boolean } = {}): { client: KeplarsRedisClient; scriptCalls: number[] } {
  const scriptCalls: number[] = [];
  const counted: KeplarsRedisClient = {
    isCluster: traits.isCluster,
    evalsha: (sha1, numkeys, ...args) => {
      scriptCalls.push(numkeys);
      return client.evalsha(sha1, numkeys, ...args);
    },
    eval: (script, numkeys, ...args) => client.eval(script, numkeys, ...args),
    ping: () => client.ping(),
    quit: () => Promise.resolve(),
    disconnect: () => undefined,
  };
  return { client: counted, scriptCalls };
}

async function waitFor<T>(attempt: () => Promise<T>, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
