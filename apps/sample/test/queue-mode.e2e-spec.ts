import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import request from 'supertest';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../../../test/support/redis.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { get, startSampleApp, TEST_SECRET } from './support/sample-app.js';
import { POSTGRES_URL, dropSchemas, queryPostgres, uniqueSchema } from '../../../test/support/postgres.js';

// The sample with REDIS_URL set: queue mode on the real Redis, and the package's queue dashboard
// behind basic auth. (The sample runs on Express, as its main.ts creates it; the browser check runs
// it on Fastify too.)

const prefix = uniqueKeyPrefix('sample-queue').slice(0, -1);
const USER = 'operator';
const PASSWORD = 'dashboard-password-7f3a';
const queueMode = { REDIS_URL, REDIS_KEY_PREFIX: prefix, QUEUE_DASHBOARD_USER: USER, QUEUE_DASHBOARD_PASSWORD: PASSWORD };

let redis: Redis;
beforeAll(() => {
  redis = connectRedis();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('the sample in queue mode (REDIS_URL set)', () => {
  let app: INestApplication;
  const logs = new CapturedLogs();
  beforeAll(async () => {
    app = await startSampleApp(queueMode, logs);
  });
  afterAll(() => app.close());

  it('answers a webhook once Redis has it; a worker then runs the sample\'s handlers', async () => {
    const payload = buildKeplarsPayload('email.delivered', { emailId: 'em_queued_1', recipient: 'queued@example.com' });
    const response = await postKeplarsEvent(app, payload, { secret: TEST_SECRET });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });

    // The job is in the sample's Redis, under its prefix, with the event id as its id.
    expect(await redis.exists(`${prefix}:keplars-webhook:${String(payload.id)}`)).toBe(1);
    await waitFor(async () => (await get(app, '/emails/em_queued_1')).status === 200, 'the worker to record the email');
    expect((await get(app, '/emails/em_queued_1')).body).toMatchObject({ status: 'delivered', recipient: 'queued@example.com' });
  });

  it(`refuses ${'/admin/queues'} without the user and password (401, with a basic-auth challenge), and with wrong ones`, async () => {
    const anonymous = await request(app.getHttpServer()).get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(anonymous.text).not.toContain('<html');

    expect((await request(app.getHttpServer()).get('/admin/queues').auth(USER, 'wrong')).status).toBe(401);
    expect((await request(app.getHttpServer()).get('/admin/queues').auth('admin', PASSWORD)).status).toBe(401);
    // Below the path too: the dashboard's API and assets are guarded the same.
    expect((await request(app.getHttpServer()).get('/admin/queues/api/queues')).status).toBe(401);
  });

  it('serves the dashboard with them, and its API lists the webhook queue, read-only', async () => {
    const page = await request(app.getHttpServer()).get('/admin/queues').auth(USER, PASSWORD);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="root">');

    const api = await request(app.getHttpServer()).get('/admin/queues/api/queues').auth(USER, PASSWORD);
    expect(api.status).toBe(200);
    const queues = api.body.queues as { name: string; readOnlyMode: boolean; displayName?: string }[];
    expect(queues.map((queue) => queue.name)).toEqual(['keplars-webhook']);
    expect(queues[0]).toMatchObject({ readOnlyMode: true, displayName: 'Keplars deliveries' });
    expect(logs.text()).toContain('Dashboard of the webhook queue at GET /admin/queues (read-only, basic auth for user "operator")');
    expect(logs.text()).not.toContain(PASSWORD);
  });
});

describe('the sample in queue mode without QUEUE_DASHBOARD_PASSWORD', () => {
  it('keeps the dashboard off (404) and says at startup how to turn it on; webhooks are still queued', async () => {
    const logs = new CapturedLogs();
    const app = await startSampleApp({ ...queueMode, QUEUE_DASHBOARD_PASSWORD: undefined }, logs);
    try {
      const response = await request(app.getHttpServer()).get('/admin/queues').auth(USER, PASSWORD);
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('<html');
      const warnings = logs.lines.filter((line) => line.level === 'warn' && line.context === 'QueueDashboard').map((line) => line.message);
      expect(warnings).toEqual([expect.stringMatching(/^The queue dashboard at \/admin\/queues is off: .* Set QUEUE_DASHBOARD_PASSWORD .* in apps\/sample\/\.env/)]);

      const payload = buildKeplarsPayload('email.opened', { emailId: 'em_queued_2' });
      expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).status).toBe(200);
      await waitFor(async () => (await get(app, '/emails/em_queued_2')).status === 200, 'the worker to record the email');
    } finally {
      await app.close();
    }
  });
});

describe('the sample with DATABASE_URL set and no Redis: its queue, marks and ledger in that Postgres', () => {
  const schema = uniqueSchema('sample_queue_pg');
  let app: INestApplication;
  beforeAll(async () => {
    app = await startSampleApp({ DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema, QUEUE_MODE: '' });
  });
  afterAll(async () => {
    await app.close();
    await dropSchemas(schema, `${schema}_queue`);
  });

  it('answers once the job is in Postgres; a worker then records the email, once, in the same database', async () => {
    const payload = buildKeplarsPayload('email.delivered', { emailId: 'em_queued_pg', recipient: 'queued@example.com' });
    expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).body).toEqual({ received: true });
    await waitFor(async () => (await get(app, '/emails/em_queued_pg')).status === 200, 'the worker to record the email');
    expect((await get(app, '/emails/em_queued_pg')).body).toMatchObject({ status: 'delivered', recipient: 'queued@example.com' });
    // The queue's jobs, the module's marks and its email ledger: all in this Postgres.
    const tables = (await queryPostgres<{ t: string }>(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ($1, $2)`, [schema, `${schema}_queue`])).map((row) => row.t);
    expect(tables).toEqual(expect.arrayContaining([`${schema}.keplars_emails`, `${schema}.keplars_events`, `${schema}.keplars_handler_marks`, `${schema}_queue.job`]));
    expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).body).toEqual({ received: true, duplicate: true });
  });
});
