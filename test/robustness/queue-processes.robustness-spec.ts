import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { buildLibraryForProcesses, QueueAppProcess, type QueueAppSettings } from '../queue/support/queue-processes.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { pick, seededRandom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';
import { runBounded } from './support/bounded-pool.js';

// SPEC §4a across processes: receivers and workers are separate Node processes on one Redis, as in
// production. Handlers count in Redis what they started and what succeeded (test/queue/support/queue-app-process.mjs).
const SECRET = 'whsec_queue_processes';
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20261203);
const EVENTS = Number(process.env.QUEUE_STORM_EVENTS ?? 1200);

describe('queue mode across processes', () => {
  let build: ReturnType<typeof buildLibraryForProcesses>;
  let redis: Redis;
  const prefixes: string[] = [];
  let running: QueueAppProcess[] = [];

  const settingsFor = (prefix: string): Omit<QueueAppSettings, 'role'> => ({
    library: build.library,
    redisUrl: REDIS_URL,
    prefix,
    secret: SECRET,
    ledger: `${prefix}:ledger`,
  });
  const start = async (settings: QueueAppSettings): Promise<QueueAppProcess> => {
    const app = await QueueAppProcess.start(settings);
    running.push(app);
    return app;
  };
  /** How many times each handler did `what`, per event id, over every process. */
  const ledgerOf = async (prefix: string, what: 'started' | 'succeeded', handler: string): Promise<Map<string, number>> =>
    new Map(Object.entries(await redis.hgetall(`${prefix}:ledger:${what}:${handler}`)).map(([id, runs]) => [id, Number(runs)]));

  beforeAll(() => {
    build = buildLibraryForProcesses();
    redis = connectRedis();
  });
  afterEach(async () => {
    await Promise.all(running.map((app) => app.stop()));
    running = [];
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
    build.remove();
  });

  it('a worker killed with SIGKILL mid-handler: another worker finishes the event, and the handlers that had succeeded do not run again', async () => {
    const prefix = uniqueKeyPrefix('queue-sigkill').slice(0, -1);
    prefixes.push(prefix);
    const settings = { ...settingsFor(prefix), lockSeconds: 4, stalledSeconds: 1 };
    const receiver = await start({ ...settings, role: 'receive' });
    const doomed = await start({ ...settings, role: 'process', block: true });

    const payload = buildKeplarsPayload('email.delivered', { metadata: { block: true } });
    const id = String(payload.id);
    expect((await postKeplarsEvent(receiver.url, payload, { secret: SECRET })).status).toBe(200);
    // Killed once the quick and flaky handlers have returned and their success is recorded in the store
    // (the one window the guarantee leaves open is between a handler's return and that record).
    const marks = () => redis.hkeys(`${prefix}:dedup:{${id}}`);
    await waitFor(
      async () =>
        (await ledgerOf(prefix, 'started', 'slow')).get(id) === 1 &&
        (await marks()).sort().join() === 'StormHandlers.flakyHandler,StormHandlers.quickHandler',
      'the doomed worker to be inside the slow handler, the others done and recorded',
    );
    await doomed.kill();

    const killedAt = Date.now();
    await start({ ...settings, role: 'process' });
    await waitFor(async () => (await ledgerOf(prefix, 'succeeded', 'slow')).get(id) === 1, `another worker to finish the event:\n${doomed.log}`, 30_000);
    const tookOverMs = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(Object.fromEntries(await ledgerOf(prefix, 'started', 'quick'))).toEqual({ [id]: 1 });
    expect(Object.fromEntries(await ledgerOf(prefix, 'started', 'flaky'))).toEqual({ [id]: 1 });
    expect(Object.fromEntries(await ledgerOf(prefix, 'started', 'slow'))).toEqual({ [id]: 2 }); // the killed run, and the one that finished
    expect(Object.fromEntries(await ledgerOf(prefix, 'succeeded', 'slow'))).toEqual({ [id]: 1 });
    console.log(`SIGKILL take-over: the event was finished ${tookOverMs} ms after the kill (stalledSeconds 1, lockSeconds 4).`);
  });

  it(`a storm over 2 receivers (Express, Fastify) and 2 workers: ${EVENTS} events, 30 % sent twice at once, 10 % failing once, 1 % always: each handler succeeds exactly once per event`, async () => {
    const prefix = uniqueKeyPrefix('queue-storm').slice(0, -1);
    prefixes.push(prefix);
    const settings = { ...settingsFor(prefix), attempts: 3, lockSeconds: 10, stalledSeconds: 5 };
    const receivers = await Promise.all([start({ ...settings, role: 'receive', adapter: 'express' }), start({ ...settings, role: 'receive', adapter: 'fastify' })]);
    await Promise.all([start({ ...settings, role: 'process' }), start({ ...settings, role: 'process' })]);

    const random = seededRandom(SEED);
    const events = Array.from({ length: EVENTS }, (_, index) => {
      const roll = random();
      const fail = roll < 0.01 ? 'always' : roll < 0.11 ? 1 : 0;
      const payload = buildKeplarsPayload(pick(random, ['email.delivered', 'email.opened', 'email.bounced', 'email.clicked']), { metadata: { fail } });
      return { index, id: String(payload.id), body: JSON.stringify(payload), fail, copies: random() < 0.3 ? 2 : 1 };
    });
    const deliveries = events.flatMap((event) => Array.from({ length: event.copies }, (_, copy) => ({ event, receiver: receivers[(event.index + copy) % 2]! })));

    const statuses = new Map<number, number>();
    const began = Date.now();
    await runBounded(events.length, 50, async (index) => {
      // Every copy of an event at the same moment, each to another receiver.
      const copies = deliveries.filter((delivery) => delivery.event.index === index);
      const answers = await Promise.all(copies.map((delivery) => postKeplarsEvent(delivery.receiver.url, delivery.event.body, { secret: SECRET })));
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    });
    const receivedMs = Date.now() - began;
    expect(Object.fromEntries(statuses)).toEqual({ 200: deliveries.length });

    const always = events.filter((event) => event.fail === 'always');
    const queue = new Queue('keplars-webhook', { connection: redis, prefix });
    try {
      await waitFor(
        async () => {
          const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized');
          return counts.wait + counts.active + counts.delayed + counts.prioritized === 0 && counts.failed === always.length;
        },
        'the queue to drain, leaving only the always-failing events',
        90_000,
      );
      const handledMs = Date.now() - began;

      const succeeded = {
        quick: await ledgerOf(prefix, 'succeeded', 'quick'),
        slow: await ledgerOf(prefix, 'succeeded', 'slow'),
        flaky: await ledgerOf(prefix, 'succeeded', 'flaky'),
      };
      const flakyStarts = await ledgerOf(prefix, 'started', 'flaky');
      const wrong: string[] = [];
      for (const event of events) {
        const expected = { quick: 1, slow: 1, flaky: event.fail === 'always' ? 0 : 1 };
        for (const handler of ['quick', 'slow', 'flaky'] as const) {
          const runs = succeeded[handler].get(event.id) ?? 0;
          if (runs !== expected[handler]) wrong.push(`${event.id} ${handler}: succeeded ${runs} times, expected ${expected[handler]}`);
        }
        const expectedStarts = event.fail === 'always' ? 3 : event.fail === 1 ? 2 : 1;
        if (flakyStarts.get(event.id) !== expectedStarts) wrong.push(`${event.id} flaky: started ${flakyStarts.get(event.id)} times, expected ${expectedStarts}`);
      }
      expect(wrong).toEqual([]);
      const deadIds = (await queue.getFailed(0, -1)).map((job) => job.data.eventId).sort();
      expect(deadIds).toEqual(always.map((event) => event.id).sort());

      const duplicates = deliveries.length - events.length;
      console.log(
        `Queue storm: ${events.length} events, ${duplicates} concurrent duplicates, ${events.filter((event) => event.fail === 1).length} failing once, ` +
          `${always.length} always; all ${deliveries.length} deliveries answered 200 in ${receivedMs} ms; queue drained in ${handledMs} ms.`,
      );
    } finally {
      await queue.close();
    }
  });
});
