import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { connectPostgres, dropSchemas, PostgresProxy, uniqueSchema } from '../../../../../test/support/postgres.js';
import type { EventClaim } from '../../core/ports/idempotency-store.js';
import { PostgresIdempotencyStore } from './postgres-idempotency.store.js';
import { PgPoolConnection, type KeplarsPgPool } from './pg-pool-connection.js';
import { checkSchema, LATEST_VERSION, migrate, PostgresSchemaError } from './postgres-migrations.js';
import { postgresTables } from './postgres-schema.js';
import { connectPostgresStore } from './connect-postgres-store.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

const WINDOW_MS = 60_000;
const LOCK_MS = 5_000;
const schema = uniqueSchema('pgstore');
const tables = postgresTables(schema);
let pool: pg.Pool;
let connection: PgPoolConnection;

beforeAll(async () => {
  pool = connectPostgres();
  connection = new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false);
  await migrate(connection, tables);
});
afterAll(async () => {
  await pool.end();
  await dropSchemas(schema, `${schema}_m`, `${schema}_manual`);
});

const claimed = (claim: EventClaim) => {
  if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
  return claim;
};
const newStore = (options: { operationTimeoutMs?: number } = {}) => new PostgresIdempotencyStore(connection, { schema, pruneIntervalMs: 0, ...options });

/** The pool, counting the store's statements by name. */
function countingStatements(): { store: PostgresIdempotencyStore; statements: string[] } {
  const statements: string[] = [];
  const counted = new PgPoolConnection(
    {
      query: (config) => {
        statements.push(config.name ?? 'unnamed');
        return pool.query(config as pg.QueryConfig);
      },
      connect: () => pool.connect() as never,
      end: async () => undefined,
    },
    'Postgres',
    false,
  );
  return { store: new PostgresIdempotencyStore(counted, { schema, pruneIntervalMs: 0 }), statements };
}

describe('the Postgres store', () => {
  it('sends the claims, and the settles, asked for in one turn of the event loop as one statement each', async () => {
    const { store, statements } = countingStatements();
    const ids = Array.from({ length: 20 }, () => `evt_${randomUUID()}`);
    const claims = (await Promise.all(ids.map((id) => store.claim(id, LOCK_MS)))).map(claimed);
    expect(statements).toEqual(['keplars_claim']);
    await Promise.all(ids.map((id, index) => store.settle(id, claims[index]!.token, ['A.a'], true, WINDOW_MS)));
    expect(statements).toEqual(['keplars_claim', 'keplars_settle']);
    expect((await Promise.all(ids.map((id) => store.claim(id, LOCK_MS)))).map((claim) => claim.state)).toEqual(ids.map(() => 'done'));
  });

  it('answers each event of one statement for itself: done, busy, partly handled, new, and the same event twice', async () => {
    const store = newStore();
    const [done, busy, partly, fresh] = Array.from({ length: 4 }, () => `evt_${randomUUID()}`) as [string, string, string, string];
    const first = (await Promise.all([done, busy, partly].map((id) => store.claim(id, LOCK_MS)))).map(claimed);
    await Promise.all([store.settle(done, first[0]!.token, ['A.a', 'B.b'], true, WINDOW_MS), store.settle(partly, first[2]!.token, ['A.a'], false, WINDOW_MS)]);
    const answers = await Promise.all([done, busy, partly, fresh, fresh].map((id) => store.claim(id, LOCK_MS)));
    expect(answers.map((answer) => answer.state)).toEqual(['done', 'busy', 'claimed', 'claimed', 'busy']);
    expect([...claimed(answers[2]!).handled]).toEqual(['A.a']);
    await Promise.all([store.settle(partly, claimed(answers[2]!).token, ['C.c'], false, WINDOW_MS), store.settle(fresh, claimed(answers[3]!).token, ['A.a'], true, WINDOW_MS)]);
    const [again, freshAgain] = await Promise.all([store.claim(partly, LOCK_MS), store.claim(fresh, LOCK_MS)]);
    expect([...claimed(again!).handled].sort()).toEqual(['A.a', 'C.c']);
    expect(freshAgain!.state).toBe('done');
  });

  it('records one handler as it returns (markHandled), and says when an event is handled', async () => {
    const store = newStore();
    const id = `evt_${randomUUID()}`;
    const claim = claimed(await store.claim(id, 50));
    await store.markHandled(id, 'A.a', WINDOW_MS);
    expect(await store.isHandled(id)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the holder "died" before settling
    const next = claimed(await store.claim(id, LOCK_MS));
    expect([...next.handled]).toEqual(['A.a']);
    await store.settle(id, next.token, ['B.b'], true, WINDOW_MS);
    expect(await store.isHandled(id)).toBe(true);
    void claim;
  });

  it('prunes marks past their window, and only those', async () => {
    const store = newStore();
    const [old, live] = [`evt_${randomUUID()}`, `evt_${randomUUID()}`];
    await store.settle(old, 'gone', [], true, 1);
    await store.settle(live, 'gone', [], true, WINDOW_MS);
    await store.inTransaction(old, 'T.t', 1, async () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.prune()).toBeGreaterThanOrEqual(2);
    const { rows } = await pool.query(`SELECT event_key FROM ${tables.events} WHERE event_key = ANY($1)`, [[old, live]]);
    expect(rows.map((row) => row.event_key)).toEqual([live]);
    const effects = await pool.query(`SELECT count(*)::int AS n FROM ${tables.effects} WHERE event_key = $1`, [old]);
    expect(effects.rows[0].n).toBe(0);
  });

  it('prunes on its own, on a timer, without a cron of the app', async () => {
    const store = new PostgresIdempotencyStore(connection, { schema, pruneIntervalMs: 50 });
    const id = `evt_${randomUUID()}`;
    await store.settle(id, 'gone', [], true, 1);
    try {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { rows } = await pool.query(`SELECT 1 FROM ${tables.events} WHERE event_key = $1`, [id]);
        if (rows.length === 0) break;
        if (Date.now() > deadline) throw new Error('the expired mark was never pruned');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await store.close();
    }
  });
});

describe('transactional handlers on the Postgres store', () => {
  beforeAll(async () => {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${schema}.effects_seen (event_key text, note text)`);
  });
  const effectsOf = async (id: string) => (await pool.query(`SELECT note FROM ${schema}.effects_seen WHERE event_key = $1`, [id])).rows.map((row) => row.note);

  it('commits the handler\'s writes with its mark, and runs it no more once committed', async () => {
    const store = newStore();
    const id = `evt_${randomUUID()}`;
    const write = async (client: unknown) => {
      await (client as pg.PoolClient).query(`INSERT INTO ${schema}.effects_seen VALUES ($1, 'once')`, [id]);
    };
    expect(await store.inTransaction(id, 'T.t', WINDOW_MS, write)).toBe('committed');
    expect(await store.inTransaction(id, 'T.t', WINDOW_MS, write)).toBe('already-handled');
    expect(await effectsOf(id)).toEqual(['once']);
  });

  it('rolls back the writes and the mark of a handler that throws, so the next delivery runs it', async () => {
    const store = newStore();
    const id = `evt_${randomUUID()}`;
    await expect(
      store.inTransaction(id, 'T.t', WINDOW_MS, async (client) => {
        await (client as pg.PoolClient).query(`INSERT INTO ${schema}.effects_seen VALUES ($1, 'rolled back')`, [id]);
        throw new Error('CRM is down');
      }),
    ).rejects.toThrow('CRM is down');
    expect(await effectsOf(id)).toEqual([]);
    expect(await store.inTransaction(id, 'T.t', WINDOW_MS, async (client) => void (await (client as pg.PoolClient).query(`INSERT INTO ${schema}.effects_seen VALUES ($1, 'retried')`, [id])))).toBe('committed');
    expect(await effectsOf(id)).toEqual(['retried']);
  });

  it('lets only one of two racing deliveries commit (the second waits on the mark, then finds it)', async () => {
    const store = newStore({ operationTimeoutMs: 10_000 });
    const id = `evt_${randomUUID()}`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = store.inTransaction(id, 'T.t', WINDOW_MS, async (client) => {
      await (client as pg.PoolClient).query(`INSERT INTO ${schema}.effects_seen VALUES ($1, 'first')`, [id]);
      await gate;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = store.inTransaction(id, 'T.t', WINDOW_MS, async (client) => {
      await (client as pg.PoolClient).query(`INSERT INTO ${schema}.effects_seen VALUES ($1, 'second')`, [id]);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await Promise.all([first, second])).toEqual(['committed', 'already-handled']);
    expect(await effectsOf(id)).toEqual(['first']);
  });

  it('gives up waiting on another delivery\'s transaction after operationTimeoutMs (a lock wait is a failure, never a hang)', async () => {
    const store = newStore({ operationTimeoutMs: 300 });
    const id = `evt_${randomUUID()}`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = store.inTransaction(id, 'T.t', WINDOW_MS, () => gate);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await expect(store.inTransaction(id, 'T.t', WINDOW_MS, async () => undefined)).rejects.toThrow(/lock timeout/);
    expect(Date.now() - started).toBeLessThan(3_000);
    release();
    await first;
  });
});

describe('the Postgres store on a bad day', () => {
  it('rejects within operationTimeoutMs while Postgres is unreachable, says so once, and works again when it is back', async () => {
    const proxy = await PostgresProxy.start();
    const lines: string[] = [];
    const store = await connectPostgresStore(
      { postgres: proxy.url.replace('postgres@', 'postgres:s3cret-pw@') }, // trust auth: any password is taken
      { schema, migrations: 'startup', operationTimeoutMs: 500, pruneIntervalMs: 0 },
      { log: (line) => lines.push(`log: ${line}`), warn: (line) => lines.push(`warn: ${line}`), error: (line) => lines.push(`error: ${line}`) },
    );
    try {
      claimed(await store.claim(`evt_${randomUUID()}`, LOCK_MS));
      await proxy.cut();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await expect(store.claim(`evt_${randomUUID()}`, LOCK_MS)).rejects.toThrow(/is unreachable/);
        expect(Date.now() - started).toBeLessThan(2_500);
      }
      expect(lines.filter((line) => line.startsWith('error:') && line.includes('is unreachable'))).toHaveLength(1);
      expect(lines.join('\n')).not.toContain('s3cret-pw'); // no password in the log
      await proxy.restore();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          claimed(await store.claim(`evt_${randomUUID()}`, LOCK_MS));
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(lines.some((line) => line.includes('reachable again'))).toBe(true);
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
});

describe('the store\'s migrations', () => {
  it('run once when several instances start together, under an advisory lock', async () => {
    const migrating = postgresTables(`${schema}_m`);
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false), migrating)));
    expect(results.filter((applied) => applied.length > 0)).toEqual([Array.from({ length: LATEST_VERSION }, (_, index) => index + 1)]);
    await expect(checkSchema(connection, migrating, 'Postgres')).resolves.toBeUndefined();
  });

  it('with migrations manual, refuse a schema without the tables, naming the command that makes them', async () => {
    await expect(
      connectPostgresStore({ postgres: pool as unknown as KeplarsPgPool }, { schema: `${schema}_manual`, migrations: 'manual', operationTimeoutMs: 2000, pruneIntervalMs: 0 }, { log() {}, warn() {}, error() {} }),
    ).rejects.toThrow(/npx keplars-webhook migrate --database-url <url> --schema .*_manual/);
  });

  it('refuse tables from a newer version of the package', async () => {
    const ahead = postgresTables(`${schema}_m`);
    await pool.query(`INSERT INTO ${ahead.migrations} (version, name) VALUES ($1, 'from the future')`, [LATEST_VERSION + 1]);
    await expect(migrate(connection, ahead)).rejects.toThrow(PostgresSchemaError);
    const refused = connectPostgresStore({ postgres: pool as unknown as KeplarsPgPool }, { schema: ahead.schema, migrations: 'startup', operationTimeoutMs: 2000, pruneIntervalMs: 0 }, { log() {}, warn() {}, error() {} });
    await expect(refused).rejects.toThrow(KeplarsConfigurationError);
    await expect(refused).rejects.toThrow(/newer than this package knows .*Upgrade this app/);
  });

  it('refuse wrong credentials at startup, saying which part of the connection string to check', async () => {
    await expect(
      connectPostgresStore({ postgres: 'postgres://nobody_here:wrong@127.0.0.1:5432/test' }, { schema, migrations: 'startup', operationTimeoutMs: 2000, pruneIntervalMs: 0 }, { log() {}, warn() {}, error() {} }),
    ).rejects.toThrow(/user and password|role "nobody_here" does not exist/);
  });

  it('refuse a database that does not exist, saying to create it', async () => {
    await expect(
      connectPostgresStore({ postgres: 'postgres://postgres@127.0.0.1:5432/no_such_database_here' }, { schema, migrations: 'startup', operationTimeoutMs: 2000, pruneIntervalMs: 0 }, { log() {}, warn() {}, error() {} }),
    ).rejects.toThrow(/createdb/);
  });
});
