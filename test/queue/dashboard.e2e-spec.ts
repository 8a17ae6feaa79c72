import { Injectable, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsDashboardModule, KeplarsDeadLetters, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { CapturedLogs } from '../support/captured-logs.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { dropSchema, POSTGRES_URL, uniqueSchema } from '../support/postgres.js';
import { waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// The queue-mode dashboard, a feature of the package (KeplarsDashboardModule): bull-board on the
// webhook queue, over real HTTP on both adapters, on real Redis and BullMQ. Who may see it, what they
// may do, how it is named, where it is mounted, and the configurations it refuses to start with.
const SECRET = 'whsec_dashboard_e2e_51d0';
const USER = 'operator';
const PASSWORD = 'dashboard-e2e-password';
const QUEUE = 'keplars-webhook';

/** A downstream that is down until the test says otherwise: its deliveries become dead letters. */
@Injectable()
class Downstream {
  down = true;
  readonly handled: string[] = [];

  @OnKeplarsEvent('*')
  sync(event: KeplarsEvent): void {
    if (this.down) throw new Error('the downstream answered 503');
    this.handled.push(event.id);
  }
}

const queueOptions = (prefix: string) => ({ redis: REDIS_URL, prefix, attempts: 1, backoff: { delaySeconds: 0.05, jitter: 0 } });
const deduplication = (prefix: string) => ({ store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } });
const installedVersion = (name: string): string => JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

/** One failed delivery: a dead letter, once the worker has given up on it. */
async function deadLetterIn(app: INestApplication, path = '/webhooks/keplars', secret = SECRET): Promise<string> {
  const payload = buildKeplarsPayload('email.delivered', { emailId: `em_${Math.random().toString(36).slice(2)}` });
  expect((await postKeplarsEvent(app, payload, { secret, path })).status).toBe(200);
  const deadLetters = await queuedDeadLetters(app);
  await waitFor(async () => (await deadLetters.list()).some((letter) => letter.eventId === payload.id), 'the delivery to become a dead letter');
  return String(payload.id);
}

/** The dead letters of the endpoint in queue mode (with named endpoints, each import has its own). */
async function queuedDeadLetters(app: INestApplication): Promise<KeplarsDeadLetters> {
  for (const deadLetters of app.get(KeplarsDeadLetters, { strict: false, each: true })) {
    try {
      await deadLetters.count();
      return deadLetters;
    } catch {
      // an inline endpoint's: it has none
    }
  }
  throw new Error('no endpoint of this app runs in queue mode');
}

let redis: Redis;
beforeAll(() => {
  redis = connectRedis();
});
afterAll(() => redis.quit());

describe.each(ADAPTERS)('the dashboard on %s, with basic auth and the defaults (read-only, /admin/queues)', (adapter: AdapterName) => {
  const prefix = uniqueKeyPrefix(`dashboard-${adapter}`).slice(0, -1);
  const logs = new CapturedLogs();
  let app: INestApplication;
  let eventId: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      logger: logs,
      imports: [
        KeplarsWebhookModule.forRoot({ secret: SECRET, queue: queueOptions(prefix), deduplication: deduplication(prefix) }),
        KeplarsDashboardModule.forRoot({ auth: { user: USER, password: PASSWORD } }),
      ],
      providers: [Downstream],
    });
    await app.listen(0, '127.0.0.1');
    eventId = await deadLetterIn(app);
  });
  afterAll(async () => {
    await app?.close();
    await deleteKeys(redis, prefix);
  });

  it('answers 401 with a basic-auth challenge without credentials: the page, its API and its assets', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/queue/keplars-webhook', '/admin/queues/api/queues', '/admin/queues/static/images/logo.svg']) {
      const response = await http().get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
      expect(response.headers['www-authenticate']).toBe('Basic realm="Keplars dashboard", charset="UTF-8"');
      expect(response.text).not.toContain(eventId);
    }
  });

  it('answers 401 to a wrong password, a wrong user, and credentials of another scheme', async () => {
    expect((await http().get('/admin/queues/api/queues').auth(USER, `${PASSWORD}x`)).status).toBe(401);
    expect((await http().get('/admin/queues/api/queues').auth('admin', PASSWORD)).status).toBe(401);
    expect((await http().get('/admin/queues/api/queues').set('Authorization', `Bearer ${PASSWORD}`)).status).toBe(401);
  });

  it('serves the page and its API with the credentials: the webhook queue, read-only, its failed jobs headed as the dead letters', async () => {
    const page = await http().get('/admin/queues').auth(USER, PASSWORD);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>Keplars webhooks</title>');

    const api = await http().get('/admin/queues/api/queues').query({ activeQueue: QUEUE, status: 'failed' }).auth(USER, PASSWORD);
    expect(api.status).toBe(200);
    expect(api.body.queues).toEqual([
      expect.objectContaining({
        name: QUEUE,
        displayName: 'Keplars deliveries',
        description: `Failed = dead letters. Replay: npx keplars-webhook dead-letters replay --prefix ${prefix} --all`,
        readOnlyMode: true,
        allowRetries: false,
        counts: expect.objectContaining({ failed: 1 }),
      }),
    ]);
    expect(JSON.stringify(api.body)).toContain(eventId);
    // Its header menu links to the failed list, as "Dead letters" (the page carries its settings).
    expect(page.text).toContain('Dead letters');
    expect(page.text).toContain('/admin/queues/queue/keplars-webhook?status=failed');
  });

  it('refuses every change (405): retry, clean, add, pause; the dead letter stays', async () => {
    const changes = [
      ['put', `/admin/queues/api/queues/${QUEUE}/retry/failed`],
      ['put', `/admin/queues/api/queues/${QUEUE}/clean/failed`],
      ['put', `/admin/queues/api/queues/${QUEUE}/${eventId}/retry`],
      ['post', `/admin/queues/api/queues/${QUEUE}/add`],
      ['put', '/admin/queues/api/queues/pause'],
    ] as const;
    for (const [method, path] of changes) {
      const response = await http()[method](path).auth(USER, PASSWORD).send({ name: 'forged', data: {} });
      expect({ path, status: response.status }).toEqual({ path, status: 405 });
      expect(response.text).toContain('read-only');
    }
    // Without credentials, the answer is 401 (nothing said about what is allowed).
    expect((await http().put(`/admin/queues/api/queues/${QUEUE}/retry/failed`)).status).toBe(401);
    const deadLetters = app.get(KeplarsDeadLetters);
    expect((await deadLetters.list()).map((letter) => letter.eventId)).toEqual([eventId]);
    expect(await app.get(KeplarsDeadLetters).count()).toBe(1);
  });

  it('says at startup where it is, how it is guarded, and the bull-board versions it checked', () => {
    const adapterPackage = `@bull-board/${adapter}`;
    const lines = logs.lines.filter((line) => line.context === 'KeplarsDashboard').map((line) => line.message);
    expect(lines).toEqual([
      'Dashboard of the webhook queue at GET /admin/queues (read-only, basic auth for user "operator"), showing the deliveries; its failed jobs are the dead letters. ' +
        `@bull-board/api ${installedVersion('@bull-board/api')}, ${adapterPackage} ${installedVersion(adapterPackage)}.`,
    ]);
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it('leaves the app\'s other routes alone: the webhook route answers without dashboard credentials', async () => {
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
    expect(response.status).toBe(200);
    expect((await http().get('/admin/queue')).status).toBe(404); // a neighbour of the path is not the dashboard
  });
});

describe.each(ADAPTERS)('the dashboard on %s, with an auth hook, readOnly: false, a global prefix and named endpoints', (adapter: AdapterName) => {
  const prefix = uniqueKeyPrefix(`dashboard-hook-${adapter}`).slice(0, -1);
  const logs = new CapturedLogs();
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const board = '/api/ops/queues';

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      logger: logs,
      configure: (created) => created.setGlobalPrefix('api'),
      imports: [
        // Two Keplars accounts: "eu" in queue mode, "us" inline.
        KeplarsWebhookModule.forRoot({ name: 'eu', path: '/webhooks/keplars/eu', secret: SECRET, queue: queueOptions(prefix), deduplication: deduplication(prefix) }),
        KeplarsWebhookModule.forRoot({ name: 'us', path: '/webhooks/keplars/us', secret: `${SECRET}_us` }),
        KeplarsDashboardModule.forRootAsync({
          useFactory: () => ({
            path: 'ops/queues',
            readOnly: false,
            auth: async (incoming) => {
              if (incoming.headers['x-operator'] === 'boom') throw new Error('session store unreachable');
              return incoming.headers['x-operator'] === 'ops';
            },
          }),
        }),
      ],
      providers: [Downstream],
    });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await deleteKeys(redis, prefix);
  });

  it('asks the hook: 401 (no challenge) unless it says yes, 500 and a log line when it throws', async () => {
    const refused = await http().get(board);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect((await http().get(board).set('x-operator', 'guest')).status).toBe(401);
    expect((await http().get(board).set('x-operator', 'ops')).status).toBe(200);
    expect((await http().get(board).set('x-operator', 'boom')).status).toBe(500);
    expect(logs.text()).toContain("The dashboard's auth check threw (session store unreachable): the request was answered 500.");
  });

  it('is under the global prefix, and shows the queued endpoint by name', async () => {
    expect((await http().get('/ops/queues').set('x-operator', 'ops')).status).toBe(404);
    const api = await http().get(`${board}/api/queues`).set('x-operator', 'ops');
    expect(api.status).toBe(200);
    expect(api.body.queues).toEqual([expect.objectContaining({ name: QUEUE, displayName: 'Keplars deliveries, endpoint "eu"', readOnlyMode: false })]);
    expect(logs.text()).toContain('Dashboard of the webhook queue at GET /api/ops/queues (read-write, your auth check), showing endpoint "eu"');
  });

  it('retries a dead letter when asked (readOnly: false), but never adds a job', async () => {
    const eventId = await deadLetterIn(app, '/api/webhooks/keplars/eu');
    const downstream = app.get(Downstream);
    downstream.down = false;
    const retry = await http().put(`${board}/api/queues/${QUEUE}/retry/failed`).set('x-operator', 'ops');
    expect(retry.status).toBe(200);
    await waitFor(() => downstream.handled.includes(eventId), 'the retried delivery to be handled');

    const add = await http().post(`${board}/api/queues/${QUEUE}/add`).set('x-operator', 'ops').send({ name: 'forged', data: { body: '{}' } });
    expect(add.status).toBe(405);
    expect(add.text).toContain('never signed');
    expect(await (await queuedDeadLetters(app)).count()).toBe(0);
  });
});

describe.each(ADAPTERS)('the dashboard on %s refuses to start', (adapter: AdapterName) => {
  const start = (dashboard: ReturnType<typeof KeplarsDashboardModule.forRoot>) =>
    createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot({ secret: SECRET }), dashboard] });

  it.each([
    ['without auth', () => KeplarsDashboardModule.forRoot({} as never), 'auth is not set'],
    ['with auth: undefined (an unset variable)', () => KeplarsDashboardModule.forRoot({ auth: undefined }), 'auth is not set'],
    ['without a password', () => KeplarsDashboardModule.forRoot({ auth: { user: 'admin', password: process.env.NO_SUCH_PASSWORD_VARIABLE } }), 'auth.password is not set'],
    ['with an empty password', () => KeplarsDashboardModule.forRoot({ auth: { user: 'admin', password: '' } }), 'auth.password is empty'],
    ['without auth from forRootAsync', () => KeplarsDashboardModule.forRootAsync({ useFactory: async () => ({ auth: undefined }) }), 'auth is not set'],
  ])('%s, saying what to add', async (_case, dashboard, problem) => {
    const started = start(dashboard());
    await expect(started).rejects.toThrow(/^KeplarsDashboardModule cannot start:\n/);
    await expect(started).rejects.toThrow(problem);
    if (problem === 'auth is not set') {
      await expect(started).rejects.toThrow("Add auth: { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD } (HTTP basic auth), or auth: (request) => yourCheck(request)");
    }
  });
});

describe.each(ADAPTERS)('the dashboard on %s in inline mode', (adapter: AdapterName) => {
  it('mounts nothing (404) and says why at startup', async () => {
    const logs = new CapturedLogs();
    const app = await createWebhookApp({
      adapter,
      logger: logs,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET }), KeplarsDashboardModule.forRoot({ auth: { user: USER, password: PASSWORD } })],
    });
    try {
      await app.listen(0, '127.0.0.1');
      expect((await request(app.getHttpServer()).get('/admin/queues').auth(USER, PASSWORD)).status).toBe(404);
      const warnings = logs.lines.filter((line) => line.context === 'KeplarsDashboard' && line.level === 'warn').map((line) => line.message);
      expect(warnings).toEqual([
        'KeplarsDashboardModule mounts nothing at /admin/queues: no import of KeplarsWebhookModule runs in queue mode, and the dashboard shows the queue ' +
          "(inline, deliveries are handled within Keplars' request; there is no queue). Give KeplarsWebhookModule a \"queue\" option to see it, or leave KeplarsDashboardModule out.",
      ]);
    } finally {
      await app.close();
    }
  });
});

// bull-board 9.10's BullMQAdapter reads a Postgres-backed queue through BullMQ's own getters (and
// Postgres' own stats instead of Redis INFO): the dashboard works on a queue on Postgres too.
describe.each(ADAPTERS)('the dashboard on %s, on a queue on Postgres', (adapter: AdapterName) => {
  const schema = uniqueSchema(`dashboard_${adapter}`);
  const dedupPrefix = uniqueKeyPrefix(`dashboard-postgres-${adapter}`).slice(0, -1);
  let app: INestApplication;
  let eventId: string;

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { postgres: POSTGRES_URL, schema, attempts: 1, backoff: { delaySeconds: 0.05, jitter: 0 } },
          deduplication: deduplication(dedupPrefix),
        }),
        KeplarsDashboardModule.forRoot({ auth: { user: USER, password: PASSWORD } }),
      ],
      providers: [Downstream],
    });
    await app.listen(0, '127.0.0.1');
    eventId = await deadLetterIn(app);
  });
  afterAll(async () => {
    await app?.close();
    await dropSchema(schema);
    await deleteKeys(redis, dedupPrefix);
  });

  it('lists the queue with its dead letter, and names the --postgres and --schema a replay needs', async () => {
    const api = await request(app.getHttpServer()).get('/admin/queues/api/queues').query({ activeQueue: QUEUE, status: 'failed' }).auth(USER, PASSWORD);
    expect(api.status).toBe(200);
    expect(api.body.queues).toEqual([
      expect.objectContaining({
        name: QUEUE,
        description: `Failed = dead letters. Replay: npx keplars-webhook dead-letters replay --postgres $KEPLARS_QUEUE_POSTGRES_URL --schema ${schema} --all`,
        readOnlyMode: true,
        counts: expect.objectContaining({ failed: 1 }),
      }),
    ]);
    expect(JSON.stringify(api.body)).toContain(eventId);
    expect((await request(app.getHttpServer()).get('/admin/queues').auth(USER, PASSWORD)).status).toBe(200);
  });
});
