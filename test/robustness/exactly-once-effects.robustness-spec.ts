import { join } from 'node:path';
import type { Pool } from 'pg';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { buildLibraryForProcesses, QueueAppProcess } from '../queue/support/queue-processes.js';
import { connectPostgres, dropSchemas, POSTGRES_URL, uniqueSchema } from '../support/postgres.js';
import { REDIS_URL, connectRedis, deleteKeys } from '../support/redis.js';
import { seededRandom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';
import { runBounded } from './support/bounded-pool.js';
import { KilledWorkers } from './support/killed-workers.js';

// SPEC §4b, shown: a storm of events, each sent as 4 concurrent copies, through queue mode with the
// Postgres store, while workers are SIGKILLed at random moments (often inside the handler, between its
// write and its mark) and replaced. Its handler writes one effect row per event into the app's own
// table, which has no unique key, so a repeat shows. A transactional handler writes through the
// transaction of its mark: afterwards every effect exists exactly once. The same storm with a plain
// handler (writing on the pool, its mark after) records how many effects repeated: the number in the
// Postgres guide's table. Nothing may be lost in either.
const SECRET = 'whsec_exactly_once';
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20261207);
const EVENTS = Number(process.env.EXACTLY_ONCE_EVENTS ?? 300);
const COPIES = 4;
const MAX_KILLS = 12;
const WORKERS = 2;
const QUEUE = (process.env.EXACTLY_ONCE_QUEUE ?? 'postgres') as 'postgres' | 'redis';
const SCRIPT = join(process.cwd(), 'test/postgres/support/effects-app-process.mjs');

const report: string[] = [];
// One build of the library for every process of both storms.
let build: ReturnType<typeof buildLibraryForProcesses>;
beforeAll(() => {
  build = buildLibraryForProcesses();
});
afterAll(() => build.remove());
afterAll(() => console.log([`Exactly-once effects: seed ${SEED}, ${EVENTS} events x ${COPIES} concurrent copies, ${WORKERS} workers SIGKILLed at random and replaced, queue on ${QUEUE}`, ...report].join('\n')));


/**
 * A describe's own schema (with the app's `effects` table) and the app processes it starts, each with
 * `env` on top of the common settings; all stopped and dropped after. `pool` is set once it has begun.
 */
function effectsApps(label: string, env: Record<string, string>) {
  const world = {
    schema: uniqueSchema(label),
    pool: undefined as unknown as Pool,
    running: new Set<QueueAppProcess>(),
    start: async (role: 'receive' | 'process'): Promise<QueueAppProcess> => {
      const app = await QueueAppProcess.spawn(SCRIPT, role, {
        KEPLARS_LIBRARY: build.library,
        KEPLARS_ROLE: role,
        KEPLARS_SECRET: SECRET,
        EFFECTS_QUEUE: QUEUE,
        EFFECTS_DATABASE_URL: POSTGRES_URL,
        EFFECTS_REDIS_URL: REDIS_URL,
        EFFECTS_SCHEMA: world.schema,
        ...env,
      });
      world.running.add(app);
      return app;
    },
  };
  beforeAll(async () => {
    world.pool = connectPostgres();
    await world.pool.query(`CREATE SCHEMA ${world.schema}`);
    await world.pool.query(`CREATE TABLE ${world.schema}.effects (event_id text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  });
  afterAll(async () => {
    await Promise.all([...world.running].map((app) => app.stop()));
    await world.pool.end();
    await dropSchemas(world.schema, `${world.schema}_queue`);
    if (QUEUE === 'redis') {
      const redis = connectRedis();
      await deleteKeys(redis, world.schema);
      await redis.quit();
    }
  });
  return world;
}

describe.each([
  ['a transactional handler', true],
  ['a plain handler', false],
] as const)('queue mode on %s with workers killed mid-handler', (kind, transactional) => {
  const world = effectsApps(transactional ? 'once_tx' : 'once_plain', { EFFECTS_TRANSACTIONAL: transactional ? '1' : '0' });
  const { schema, running, start } = world;

  it(transactional ? 'leaves every effect exactly once, and loses none' : 'loses no effect, and records how many repeated', async () => {
    const receiver = await start('receive');
    const random = seededRandom(SEED);
    const events = Array.from({ length: EVENTS }, () => {
      const payload = buildKeplarsPayload(random() < 0.5 ? 'email.delivered' : 'email.opened');
      return { id: String(payload.id), body: JSON.stringify(payload) };
    });

    // Every event queued first, each as 4 copies at once (the receiver answers once it is written down).
    const statuses = new Map<number, number>();
    await runBounded(events.length, 20, async (index) => {
      const event = events[index]!;
      const answers = await Promise.all(Array.from({ length: COPIES }, () => postKeplarsEvent(receiver.url, event.body, { secret: SECRET })));
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    });
    expect(Object.fromEntries(statuses)).toEqual({ 200: EVENTS * COPIES });

    // Then the workers, and the killer: every 0.6-1.2 s one of the workers that has been up for a second
    // dies at once, as the kernel kills it, and a new one starts, until 90 % of the events have their
    // effect or MAX_KILLS; so the kills land while handlers run (each lingers 50-150 ms after its write).
    const effects = async () => new Map((await world.pool.query(`SELECT event_id, count(*)::int AS n FROM ${schema}.effects GROUP BY event_id`)).rows.map((row) => [row.event_id as string, row.n as number]));
    const began = Date.now();
    const workers = new KilledWorkers(() => start('process'), (victim) => running.delete(victim), random, { workers: WORKERS, maxKills: MAX_KILLS });
    await workers.begin();
    await waitFor(async () => (await effects()).size >= EVENTS * 0.9, '90 % of the events to have their effect', 180_000);
    const kills = await workers.stop();
    await waitFor(async () => (await effects()).size === EVENTS, 'every event to have its effect', 60_000).catch(async (error) => {
      const have = await effects();
      const missing = events.filter((event) => !have.has(event.id)).map((event) => event.id);
      const marks = await world.pool.query(`SELECT * FROM ${schema}.keplars_events WHERE event_key = ANY($1)`, [missing.slice(0, 5)]);
      const handlerMarks = await world.pool.query(`SELECT * FROM ${schema}.keplars_handler_marks WHERE event_key = ANY($1)`, [missing.slice(0, 5)]);
      throw new Error(`${(error as Error).message}: ${missing.length} missing, e.g. ${JSON.stringify(marks.rows)} ${JSON.stringify(handlerMarks.rows)}\n${[...running].map((app) => app.log).join('\n---\n').slice(-3000)}`);
    });
    const counts = await effects();
    const repeated = [...counts.values()].filter((n) => n > 1);
    const extra = repeated.reduce((sum, n) => sum + n - 1, 0);
    report.push(
      `  ${kind}: ${EVENTS * COPIES} deliveries answered 200, ${kills} workers killed, handled in ${((Date.now() - began) / 1000).toFixed(1)} s; ` +
        `events with an effect: ${counts.size}/${EVENTS}; effects repeated: ${repeated.length} events (${extra} extra rows)`,
    );

    expect(counts.size).toBe(EVENTS);
    expect(kills).toBeGreaterThanOrEqual(3);
    if (transactional) expect(repeated).toEqual([]);
  }, 240_000);
});

// A delivery whose worker dies while handling it, and whose next worker dies too, is given up by
// BullMQ (maxStalledCount 1): a dead letter, whatever attempts remain. Nothing else says so, so the
// module's worker warns with the delivery's id and the command that replays it.
describe('a delivery whose workers die twice while handling it', () => {
  const world = effectsApps('stalled_twice', {
    EFFECTS_TRANSACTIONAL: '0',
    EFFECTS_LINGER_MS: '20000', // the handler writes its effect, then takes 10-30 s: killed meanwhile
    EFFECTS_CONCURRENCY: '1',
    EFFECTS_LOG_LEVELS: 'error,warn',
  });
  const { schema, running, start } = world;

  it('becomes a dead letter with a warning that names it and says how to replay it', async () => {
    const starts = async () => Number((await world.pool.query(`SELECT count(*) AS n FROM ${schema}.effects`)).rows[0].n);
    const receiver = await start('receive');
    const payload = buildKeplarsPayload('email.delivered');
    expect((await postKeplarsEvent(receiver.url, payload, { secret: SECRET })).status).toBe(200);
    for (let death = 1; death <= 2; death++) {
      const worker = await start('process');
      await waitFor(async () => (await starts()) >= death, `worker ${death} to be inside the handler`, 30_000);
      await worker.kill();
      running.delete(worker);
    }
    const third = await start('process');
    await waitFor(async () => third.log.includes('is now a dead letter'), 'the third worker to give the delivery up, and say so', 30_000).catch(async (error) => {
      const jobs = QUEUE === 'postgres' ? (await world.pool.query(`SELECT id, state, attempts_made, stalled_count, failed_reason, deferred_failure FROM ${schema}_queue.job`)).rows : [];
      throw new Error(`${(error as Error).message}: jobs ${JSON.stringify(jobs)}, effects ${await starts()}\n${third.log.slice(-2000)}`);
    });
    expect(third.log).toContain(`Delivery ${String(payload.id)} is now a dead letter: the workers handling it stopped twice before it finished`);
    expect(third.log).toContain(`npx keplars-webhook dead-letters replay ${String(payload.id)}`);
  }, 90_000);
});
