import { Injectable, type INestApplication, type Type } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { KEPLARS_QUEUE, KEPLARS_QUEUE_NAME, KeplarsDeadLetters, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent, type KeplarsQueueOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../support/captured-logs.js';
import { connectRedis, deleteKeys, OwnRedisServer, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { Latch, waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// SPEC §4a: queue mode end to end, on real Redis and real BullMQ, through real HTTP on both adapters.
const SECRET = 'whsec_queue';

/** Two handlers: one that waits at a latch (when one is set), one that only counts. */
@Injectable()
class LatchedHandlers {
  latch: Latch | undefined;
  readonly started = new Map<string, number>();
  readonly slow = new Map<string, number>();
  readonly quick = new Map<string, number>();

  @OnKeplarsEvent('*')
  async slowHandler(event: KeplarsEvent): Promise<void> {
    this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
    await this.latch?.opened;
    this.slow.set(event.id, (this.slow.get(event.id) ?? 0) + 1);
  }

  @OnKeplarsEvent('email.opened')
  quickHandler(event: KeplarsEvent): void {
    this.quick.set(event.id, (this.quick.get(event.id) ?? 0) + 1);
  }
}

/** A downstream that fails the first `failFirst` calls per event, or all of them while `broken`. */
@Injectable()
class UnreliableHandlers {
  failFirst = 0;
  broken = false;
  readonly attempts = new Map<string, number[]>();
  readonly successes = new Map<string, number>();
  readonly neighbour = new Map<string, number>();

  @OnKeplarsEvent('*')
  async callDownstream(event: KeplarsEvent): Promise<void> {
    const times = [...(this.attempts.get(event.id) ?? []), Date.now()];
    this.attempts.set(event.id, times);
    if (this.broken || times.length <= this.failFirst) throw new Error(`downstream refused attempt ${times.length}`);
    this.successes.set(event.id, (this.successes.get(event.id) ?? 0) + 1);
  }

  @OnKeplarsEvent('*')
  recordAudit(event: KeplarsEvent): void {
    this.neighbour.set(event.id, (this.neighbour.get(event.id) ?? 0) + 1);
  }
}

describe.each(ADAPTERS)('queue mode on %s', (adapter: AdapterName) => {
  const prefix = uniqueKeyPrefix(`queue-${adapter}`).slice(0, -1);
  let redis: Redis;
  const queue = (more: Partial<KeplarsQueueOptions> = {}): KeplarsQueueOptions => ({
    redis: REDIS_URL,
    prefix,
    backoff: { delaySeconds: 0.05, jitter: 0 },
    stalledSeconds: 5,
    ...more,
  });
  const apps: INestApplication[] = [];
  async function start<T>(
    handlers: Type<T>,
    queueOptions: Partial<KeplarsQueueOptions> = {},
    logger?: CapturedLogs,
    deduplication: { windowSeconds?: number; derivedIdWindowSeconds?: number } = {},
  ): Promise<[INestApplication, T]> {
    const options = queue(queueOptions);
    const app = await createWebhookApp({
      adapter,
      logger,
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: options,
          // the marks on the queue's Redis (the default), under this test's prefix
          deduplication: { ...deduplication, store: { redis: options.redis as string, keyPrefix: `${prefix}:dedup:` } },
        }),
      ],
      providers: [handlers],
    });
    apps.push(app);
    return [app, app.get(handlers)];
  }
  const deliver = (app: INestApplication, payload: object | string) => postKeplarsEvent(app, payload, { secret: SECRET });
  /** Delivers a signed body the module cannot read: 200 `quarantined`, then its dead letter, found by its reason. */
  const quarantined = async (app: INestApplication, body: string, reason: string) => {
    const response = await deliver(app, body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true, quarantined: true });
    const deadLetters = app.get(KeplarsDeadLetters);
    const find = async () => (await deadLetters.list()).find((letter) => letter.kind === 'unreadable' && letter.reason.includes(reason));
    await waitFor(async () => (await find()) !== undefined, 'the quarantined delivery');
    return (await find())!;
  };

  beforeAll(() => {
    redis = connectRedis();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('answers 200 once Redis has the delivery, before any handler finishes; then each handler runs once', async () => {
    const [app, handlers] = await start(LatchedHandlers);
    handlers.latch = new Latch();

    const payload = buildKeplarsPayload('email.opened');
    const id = String(payload.id);

    const response = await deliver(app, payload);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    expect(handlers.slow.get(id)).toBeUndefined(); // still at the latch: the answer did not wait for it

    handlers.latch.release();
    await waitFor(() => handlers.slow.get(id) === 1 && handlers.quick.get(id) === 1, 'both handlers to run');

    const again = await deliver(app, payload);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([handlers.started.get(id), handlers.slow.get(id), handlers.quick.get(id)]).toEqual([1, 1, 1]);
  });

  it('answers a redelivery of an event still waiting in the queue "duplicate", and queues it once', async () => {
    const [app, handlers] = await start(LatchedHandlers, { concurrency: 1 });
    handlers.latch = new Latch();

    const blocker = buildKeplarsPayload('email.sent');
    await deliver(app, blocker);
    await waitFor(() => handlers.started.get(String(blocker.id)) === 1, 'the first event to hold the only worker slot');

    const payload = buildKeplarsPayload('email.opened');
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(app, payload)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    const again = await deliver(app, payload); // the job is waiting: found by its id
    expect(again.body).toEqual({ received: true, duplicate: true });

    handlers.latch.release();
    await waitFor(() => handlers.slow.get(String(payload.id)) === 1, 'the queued event to be handled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handlers.slow.get(String(payload.id))).toBe(1);
    expect(handlers.quick.get(String(payload.id))).toBe(1);
  });

  it('handles a genuine repeat once the store has forgotten the event: no completed job keeps its id taken', async () => {
    // An event without an id (its id derived from its content): the same content again after the
    // window is a new open of the same email, not a retry. The store's window decides, not the queue.
    const [app, handlers] = await start(UnreliableHandlers, {}, undefined, { windowSeconds: 1 });
    const body = JSON.stringify(buildKeplarsPayload('email.opened', { shape: 'event-data', emailId: 'em_repeat' }));
    expect((await deliver(app, body)).body).toEqual({ received: true });
    await waitFor(() => [...handlers.successes.values()].reduce((sum, runs) => sum + runs, 0) === 1, 'the first open to be handled');
    expect((await deliver(app, body)).body).toEqual({ received: true, duplicate: true }); // a retry, within the window

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await deliver(app, body)).body).toEqual({ received: true });
    await waitFor(() => [...handlers.successes.values()].reduce((sum, runs) => sum + runs, 0) === 2, 'the repeat to be handled');
  });

  it('takes an identical copy of an id-less event as its duplicate while its job waits for a retry, even past derivedIdWindowSeconds (README: a limit)', async () => {
    // README, Queue mode › Guarantees › "Two limits to know": the job id is the content-derived id,
    // so while the first copy's job waits for its retry, an identical copy is that job.
    const [app, handlers] = await start(UnreliableHandlers, { attempts: 3, backoff: { delaySeconds: 30, jitter: 0 } }, undefined, { derivedIdWindowSeconds: 1 });
    handlers.failFirst = 1;
    const body = JSON.stringify(buildKeplarsPayload('email.opened', { shape: 'event-data', emailId: `em_waiting_${adapter}` }));
    expect((await deliver(app, body)).body).toEqual({ received: true });
    await waitFor(() => [...handlers.attempts.values()].some((times) => times.length === 1), 'the first attempt to fail');
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // past derivedIdWindowSeconds; the retry is 30 s away
    expect((await deliver(app, body)).body).toEqual({ received: true, duplicate: true });
    expect([...handlers.attempts.values()].map((times) => times.length)).toEqual([1]);
  });

  it('retries a handler that fails 3 times with growing waits; it succeeds once, and its neighbour ran once', async () => {
    const [app, handlers] = await start(UnreliableHandlers, { attempts: 5 });
    handlers.failFirst = 3;

    const payload = buildKeplarsPayload('email.delivered');
    const id = String(payload.id);

    expect((await deliver(app, payload)).status).toBe(200);
    await waitFor(() => handlers.successes.get(id) === 1, 'the fourth attempt to succeed');
    const times = handlers.attempts.get(id)!;
    expect(times).toHaveLength(4);
    const waits = times.slice(1).map((time, i) => time - times[i]!);
    // Exponential backoff from 50 ms, no jitter: at least 50, 100, 200 ms between attempts.
    waits.forEach((wait, i) => expect(wait).toBeGreaterThanOrEqual(50 * 2 ** i - 5));
    expect(handlers.neighbour.get(id)).toBe(1);
  });

  it('keeps an event whose handler always fails as a dead letter with its error; a replay after the fix runs only that handler, once', async () => {
    const [app, handlers] = await start(UnreliableHandlers, { attempts: 3 });
    handlers.broken = true;

    const deadLetters = app.get(KeplarsDeadLetters);
    const payload = buildKeplarsPayload('email.bounced');
    const id = String(payload.id);

    expect((await deliver(app, payload)).status).toBe(200);
    await waitFor(async () => (await deadLetters.list()).some((letter) => letter.eventId === id), 'the dead letter');
    const [letter] = (await deadLetters.list()).filter((entry) => entry.eventId === id);
    expect(letter).toMatchObject({
      id,
      kind: 'handlers-failed',
      type: 'email.bounced',
      attempts: 3,
      succeeded: ['UnreliableHandlers.recordAudit'],
      failures: [{ handler: 'UnreliableHandlers.callDownstream', error: 'Error: downstream refused attempt 3', attempt: 3 }],
    });
    expect(letter!.reason).toContain('downstream refused attempt 3');
    expect(handlers.attempts.get(id)).toHaveLength(3);
    const details = await deadLetters.show(id);
    expect(JSON.parse(details!.body)).toEqual(payload); // the exact body kept

    handlers.broken = false;
    expect(await deadLetters.replay(id)).toBe(true);
    await waitFor(() => handlers.successes.get(id) === 1, 'the replayed event to be handled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handlers.successes.get(id)).toBe(1);
    expect(handlers.neighbour.get(id)).toBe(1); // succeeded before: not run again
    expect((await deadLetters.list()).filter((entry) => entry.eventId === id)).toEqual([]);
  });

  it('answers 503 while Redis is down, writing nothing and running nothing; once it is back, deliveries are queued and handled', async () => {
    const server = await OwnRedisServer.start();
    try {
      const logs = new CapturedLogs();
      const [app, handlers] = await start(UnreliableHandlers, { redis: server.url, operationTimeoutMs: 1000 }, logs);
      const before = buildKeplarsPayload('email.opened');
      expect((await deliver(app, before)).status).toBe(200);
      await waitFor(() => handlers.successes.get(String(before.id)) === 1, 'the first event to be handled');

      await server.stop();
      const during = buildKeplarsPayload('email.clicked');
      const refused = await deliver(app, during);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
      expect(logs.text()).toMatch(/Answered 503 to email.clicked .*: it could not be queued/);

      await server.start();
      // Keplars retries until it gets a 2xx.
      await waitFor(async () => (await deliver(app, during)).status === 200, 'a retry to be accepted once Redis is back', 20_000);
      const after = buildKeplarsPayload('email.delivered');
      expect((await deliver(app, after)).status).toBe(200);
      await waitFor(
        () => handlers.successes.get(String(during.id)) === 1 && handlers.successes.get(String(after.id)) === 1,
        'the retried and the next event to be handled',
        20_000,
      );
      expect(handlers.attempts.get(String(during.id))).toHaveLength(1); // never ran while refused
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await server.stop();
    }
  });

  it('keeps a signed body it cannot read, answers 200, lists it with its reason, and can replay it', async () => {
    const [app, handlers] = await start(UnreliableHandlers);
    const deadLetters = app.get(KeplarsDeadLetters);
    const body = JSON.stringify({ kind: 'email.opened', message: { id: 'em_1' } }); // no type: not a shape the module reads

    const response = await deliver(app, body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true, quarantined: true });
    await waitFor(async () => (await deadLetters.list()).some((letter) => letter.kind === 'unreadable'), 'the quarantined delivery');
    const [letter] = (await deadLetters.list()).filter((entry) => entry.kind === 'unreadable');
    expect(letter!.reason).toMatch(/^unreadable: .*type/);
    expect(letter!.attempts).toBe(1); // not retried: it would be read the same way
    expect((await deadLetters.show(letter!.id))!.body).toBe(body);
    expect(handlers.neighbour.size).toBe(0);

    expect(await deadLetters.replay(letter!.id)).toBe(true); // read again by the workers, with today's code
    await waitFor(async () => (await deadLetters.show(letter!.id)) !== undefined, 'the replayed delivery to come back unreadable');
    expect(handlers.neighbour.size).toBe(0);
    expect(await deadLetters.discard(letter!.id)).toBe(true);
    expect(await deadLetters.show(letter!.id)).toBeUndefined();
    expect(await deadLetters.replay('no-such-letter')).toBe(false);
  });

  it.each([
    ['a list', '[{"type":"email.opened"}]', 'the body must be a JSON object'],
    ['no type', '{"id":"evt_no_type","data":{"email_id":"em_1"}}', 'type'],
    ['failing validation', '{"type":"email.opened","id":"evt_bad","data":{"email_id":42}}', 'data.email_id must be a string'],
  ])('keeps a signed body with %s as an unreadable dead letter, answered 200', async (_, body, reason) => {
    const [app, handlers] = await start(UnreliableHandlers);
    const deadLetters = app.get(KeplarsDeadLetters);
    const letter = await quarantined(app, body, reason);
    expect((await deadLetters.show(letter.id))!.body).toBe(body);
    expect(handlers.neighbour.size).toBe(0);
    await deadLetters.discard(letter.id);
  });

  // Issue 12: the framework's JSON parser used to answer these 400 before the signature was checked,
  // so a signed delivery was lost. A bare string is JSON, but Express's strict parser refused it too.
  it.each([
    ['not JSON at all', '{"type": "email.opened",', 'the body is not valid JSON: '],
    ['a bare JSON string', '"email.opened"', 'the body must be a JSON object'],
    ['a bare JSON number', '42', 'the body must be a JSON object'],
    // Issue 23, point 4: the Fastify receiver quarantined it, the worker read it with JSON.parse and ran its handlers.
    ['JSON with a "__proto__" key', '{"type":"email.opened","id":"evt_proto","__proto__":{"admin":true}}', '"__proto__"'],
  ])('keeps a signed body that is %s as an unreadable dead letter, answered 200, and can replay and discard it', async (_, body, reason) => {
    const [app, handlers] = await start(UnreliableHandlers);
    const deadLetters = app.get(KeplarsDeadLetters);
    const letter = await quarantined(app, body, reason);
    const shown = (await deadLetters.show(letter.id))!;
    expect(shown.body).toBe(body);
    expect(shown.headers['content-type']).toBe('application/json'); // as sent, whatever the module did to read it

    expect(await deadLetters.replay(letter.id)).toBe(true); // read again by the workers: still unreadable
    await waitFor(async () => (await deadLetters.list()).some((entry) => entry.id === letter.id && entry.attempts === 1 && entry.reason.includes(reason)), 'the replayed delivery to come back unreadable');
    expect(handlers.neighbour.size).toBe(0);
    expect(await deadLetters.discard(letter.id)).toBe(true);
    expect(await deadLetters.show(letter.id)).toBeUndefined();
  });

  it('refuses an unsigned or wrongly signed body that is not JSON (401) and writes nothing', async () => {
    const [app] = await start(UnreliableHandlers);
    for (const signature of [false as const, `sha256=${'ab'.repeat(32)}`]) {
      expect((await postKeplarsEvent(app, '{"type": "email.opened",', { secret: SECRET, signature })).status).toBe(401);
    }
    expect(await app.get(KeplarsDeadLetters).count()).toBe(0);
  });

  it('refuses an unsigned or wrongly signed request (401) and writes nothing to the queue', async () => {
    const [app] = await start(UnreliableHandlers);
    const queue = app.get<Queue>(KEPLARS_QUEUE); // the BullMQ queue, injectable by its @nestjs/bullmq-style token
    expect(queue.name).toBe(KEPLARS_QUEUE_NAME);
    const before = await queue.getJobCounts();
    for (const signature of [false as const, 'sha256=00', `sha256=${'ab'.repeat(32)}`]) {
      expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, signature })).status).toBe(401);
    }
    expect(await queue.getJobCounts()).toEqual(before);
  });

  it('in the receive role, queues deliveries and runs no handler; in the process role, mounts no route and handles them', async () => {
    const [receiver, receiverHandlers] = await start(UnreliableHandlers, { role: 'receive' });
    const [worker, workerHandlers] = await start(UnreliableHandlers, { role: 'process' });
    const payload = buildKeplarsPayload('email.opened');
    expect((await deliver(receiver, payload)).status).toBe(200);
    await waitFor(() => workerHandlers.successes.get(String(payload.id)) === 1, 'the worker to handle it');
    expect(receiverHandlers.attempts.size).toBe(0);
    expect((await deliver(worker, payload)).status).toBe(404);
  });

  it.each(['receive-and-process', 'process'] as const)('with forRootAsync (role %s, known only at runtime), works the same', async (role) => {
    const app = await createWebhookApp({
      adapter,
      imports: [
        KeplarsWebhookModule.forRootAsync({
          useFactory: async () => ({
            secret: SECRET,
            queue: queue({ role }),
            deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
          }),
        }),
      ],
      providers: [UnreliableHandlers],
    });
    apps.push(app);
    const handlers = app.get(UnreliableHandlers);
    const payload = buildKeplarsPayload('email.opened');
    if (role === 'process') {
      expect((await deliver(app, payload)).status).toBe(404); // the route exists (decided at import) but this app only processes
      return;
    }
    expect((await deliver(app, payload)).status).toBe(200);
    await waitFor(() => handlers.successes.get(String(payload.id)) === 1, 'the event to be handled');
  });

  it('starts while Redis is down (503 meanwhile), and queues and handles deliveries once it is up', async () => {
    const server = await OwnRedisServer.start();
    await server.stop();
    try {
      const [app, handlers] = await start(UnreliableHandlers, { redis: server.url, operationTimeoutMs: 500 });
      const payload = buildKeplarsPayload('email.opened');
      expect((await deliver(app, payload)).status).toBe(503);
      await server.start();
      await waitFor(async () => (await deliver(app, payload)).status === 200, 'a retry to be accepted once Redis is up', 20_000);
      await waitFor(() => handlers.successes.get(String(payload.id)) === 1, 'the event to be handled', 20_000);
      expect(handlers.neighbour.get(String(payload.id))).toBe(1);
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await server.stop();
    }
  }, 60_000);
});
