import { Injectable, type INestApplication, type Type } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { KEPLARS_QUEUE, KeplarsDeadLetters, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent, type KeplarsQueueOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../support/captured-logs.js';
import { dropSchema, POSTGRES_URL, PostgresProxy, queryPostgres, uniqueSchema } from '../support/postgres.js';
import { REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { Latch, waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// SPEC §4b: queue mode on PostgreSQL through BullMQ 6's own Postgres backend, end to end on the
// shared PostgreSQL 15 (a schema per run), through real HTTP on both adapters. The handlers' marks
// are where a queue on Postgres keeps them by default: the Postgres store, in the queue's schema.
const SECRET = 'whsec_queue_postgres';

/** One handler that waits at a latch (when one is set) and counts. */
@Injectable()
class LatchedHandlers {
  latch: Latch | undefined;
  readonly started = new Map<string, number>();
  readonly done = new Map<string, number>();

  @OnKeplarsEvent('*')
  async hold(event: KeplarsEvent): Promise<void> {
    this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
    await this.latch?.opened;
    this.done.set(event.id, (this.done.get(event.id) ?? 0) + 1);
  }
}

/** A downstream that fails while `broken`, and a neighbour that always succeeds. */
@Injectable()
class UnreliableHandlers {
  broken = false;
  readonly attempts = new Map<string, number>();
  readonly successes = new Map<string, number>();
  readonly neighbour = new Map<string, number>();

  @OnKeplarsEvent('*')
  callDownstream(event: KeplarsEvent): void {
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    if (this.broken) throw new Error(`downstream refused attempt ${attempt}`);
    this.successes.set(event.id, (this.successes.get(event.id) ?? 0) + 1);
  }

  @OnKeplarsEvent('*')
  recordAudit(event: KeplarsEvent): void {
    this.neighbour.set(event.id, (this.neighbour.get(event.id) ?? 0) + 1);
  }
}

describe.each(ADAPTERS)('queue mode on Postgres, on %s', (adapter: AdapterName) => {
  const schema = uniqueSchema(`queue_${adapter}`);
  const apps: INestApplication[] = [];

  async function start<T>(handlers: Type<T>, more: Partial<KeplarsQueueOptions> = {}, logger?: CapturedLogs): Promise<[INestApplication, T]> {
    const app = await createWebhookApp({
      adapter,
      logger,
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { postgres: POSTGRES_URL, schema, backoff: { delaySeconds: 0.05, jitter: 0 }, stalledSeconds: 5, ...more },
          // No deduplication store named: the marks live beside the queue, in the same schema.
        }),
      ],
      providers: [handlers],
    });
    apps.push(app);
    return [app, app.get(handlers)];
  }
  const deliver = (app: INestApplication, payload: object | string) => postKeplarsEvent(app, payload, { secret: SECRET });
  /** The rows of the queue's jobs table for a job id, read straight from PostgreSQL. */
  const jobRows = async (id: string) => (await queryPostgres<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".job WHERE id = $1`, [id]))[0]!.n;

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('answers 200 once the job is in PostgreSQL, before the handler finishes; the worker runs it once; a redelivery is a duplicate', async () => {
    const [app, handlers] = await start(LatchedHandlers);
    handlers.latch = new Latch();
    const payload = buildKeplarsPayload('email.opened');
    const id = String(payload.id);

    const response = await deliver(app, payload);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    expect(await jobRows(id)).toBe('1'); // in the schema's tables, not only in memory
    expect(handlers.done.get(id)).toBeUndefined(); // the answer did not wait for the handler

    handlers.latch.release();
    await waitFor(() => handlers.done.get(id) === 1, 'the handler to run');
    await waitFor(async () => (await jobRows(id)) === '0', 'the completed job to be removed');

    const again = await deliver(app, payload); // handled: the store says so
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([handlers.started.get(id), handlers.done.get(id)]).toEqual([1, 1]);
  });

  it('answers a redelivery of an event whose job still waits "duplicate", and queues it once', async () => {
    const [app, handlers] = await start(LatchedHandlers, { concurrency: 1 });
    handlers.latch = new Latch();
    const blocker = buildKeplarsPayload('email.sent');
    await deliver(app, blocker);
    await waitFor(() => handlers.started.get(String(blocker.id)) === 1, 'the first event to hold the only worker slot');

    const payload = buildKeplarsPayload('email.opened');
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(app, payload)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await jobRows(String(payload.id))).toBe('1'); // copies racing past the check are one job, by its id
    const again = await deliver(app, payload); // the job waits: BullMQ knows its id
    expect(again.body).toEqual({ received: true, duplicate: true });
    expect(await app.get<Queue>(KEPLARS_QUEUE).getJobState(String(payload.id))).toBe('waiting');

    handlers.latch.release();
    await waitFor(() => handlers.done.get(String(payload.id)) === 1, 'the queued event to be handled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handlers.started.get(String(payload.id))).toBe(1);
  });

  it('retries a failing handler, keeps the event as a dead letter with its last error, and a replay runs only that handler', async () => {
    const [app, handlers] = await start(UnreliableHandlers, { attempts: 3 });
    handlers.broken = true;
    const deadLetters = app.get(KeplarsDeadLetters);
    const payload = buildKeplarsPayload('email.bounced');
    const id = String(payload.id);

    expect((await deliver(app, payload)).status).toBe(200);
    await waitFor(async () => (await deadLetters.show(id)) !== undefined, 'the dead letter');
    const letter = (await deadLetters.list()).find((entry) => entry.eventId === id);
    expect(letter).toMatchObject({
      id,
      kind: 'handlers-failed',
      type: 'email.bounced',
      attempts: 3,
      succeeded: ['UnreliableHandlers.recordAudit'],
      failures: [{ handler: 'UnreliableHandlers.callDownstream', error: 'Error: downstream refused attempt 3', attempt: 3 }],
    });
    expect(letter!.reason).toContain('downstream refused attempt 3');
    expect(JSON.parse((await deadLetters.show(id))!.body)).toEqual(payload);
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true }); // a dead letter holds its id

    handlers.broken = false;
    expect(await deadLetters.replay(id)).toBe(true);
    await waitFor(() => handlers.successes.get(id) === 1, 'the replayed event to be handled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([handlers.attempts.get(id), handlers.successes.get(id), handlers.neighbour.get(id)]).toEqual([4, 1, 1]);
    expect(await deadLetters.show(id)).toBeUndefined();
    expect(await deadLetters.count()).toBe(0);
  });

  it('in the receive role queues and runs nothing; an app in the process role (no route) handles it', async () => {
    const [receiver, receiverHandlers] = await start(UnreliableHandlers, { role: 'receive' });
    const payload = buildKeplarsPayload('email.clicked');
    expect((await deliver(receiver, payload)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await jobRows(String(payload.id))).toBe('1'); // waits for a worker

    const [worker, workerHandlers] = await start(UnreliableHandlers, { role: 'process' });
    await waitFor(() => workerHandlers.successes.get(String(payload.id)) === 1, 'the worker to handle it');
    expect(receiverHandlers.attempts.size).toBe(0);
    expect((await deliver(worker, payload)).status).toBe(404);
  });

  it('answers 503 within operationTimeoutMs while PostgreSQL is unreachable, writing nothing; once it is back, the retry is queued and handled', async () => {
    const proxy = await PostgresProxy.start();
    try {
      const logs = new CapturedLogs();
      const [app, handlers] = await start(UnreliableHandlers, { postgres: proxy.url, operationTimeoutMs: 1000 }, logs);
      const before = buildKeplarsPayload('email.opened');
      expect((await deliver(app, before)).status).toBe(200);
      await waitFor(() => handlers.successes.get(String(before.id)) === 1, 'the first event to be handled');

      proxy.cut();
      const during = buildKeplarsPayload('email.delivered');
      const startedAt = Date.now();
      const refused = await deliver(app, during);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
      expect(Date.now() - startedAt).toBeLessThan(1000 + 500);
      expect(logs.text()).toMatch(/Answered 503 to email.delivered .*: it could not be queued/);
      expect(await jobRows(String(during.id))).toBe('0'); // nothing half-written (read past the proxy)

      proxy.restore();
      await waitFor(async () => (await deliver(app, during)).status === 200, 'a retry to be accepted once PostgreSQL is back', 20_000);
      await waitFor(() => handlers.successes.get(String(during.id)) === 1, 'the retried event to be handled', 20_000);
      expect(handlers.attempts.get(String(during.id))).toBe(1);
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await proxy.close();
    }
  }, 60_000);
});

describe('queue mode on Postgres, at startup', () => {
  it('refuses to start while PostgreSQL is unreachable, and says why (BullMQ keeps a first failed connection for good)', async () => {
    const proxy = await PostgresProxy.start();
    proxy.cut();
    try {
      const failed = createWebhookApp({
        adapter: 'express',
        imports: [
          KeplarsWebhookModule.forRoot({
            secret: SECRET,
            queue: { postgres: proxy.url, schema: uniqueSchema('never'), operationTimeoutMs: 500 },
            deduplication: { store: { redis: REDIS_URL, keyPrefix: uniqueKeyPrefix('never') } },
          }),
        ],
      });
      await expect(failed).rejects.toThrow(/the queue's Postgres \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/test, schema "never_\w+"\) could not be reached or prepared at startup/);
    } finally {
      await proxy.close();
    }
  });
});
