import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { KEPLARS_TABLES } from '../../../test/support/postgres.js';
import { DEVELOPMENT_WEBHOOK_SECRET } from '../src/config/webhook-secret.js';
import { databaseOf, get, keptDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// How the sample is configured: a development secret that works out of the box, and says so.

const statusSignedWith = async (app: INestApplication, secret: string) =>
  (await postKeplarsEvent(app, buildKeplarsPayload('email.delivered'), { secret })).status;

describe('KEPLARS_WEBHOOK_SECRET', () => {
  it('unset: the development secret verifies, with a warning that says how to set the real one', async () => {
    const logs = new CapturedLogs();
    const app = await startSampleApp({ KEPLARS_WEBHOOK_SECRET: undefined }, logs);
    try {
      expect(await statusSignedWith(app, DEVELOPMENT_WEBHOOK_SECRET)).toBe(200);
      expect(await statusSignedWith(app, TEST_SECRET)).toBe(401);
      const warnings = logs.lines.filter((line) => line.level === 'warn').map((line) => line.message);
      expect(warnings).toContainEqual(expect.stringMatching(/^KEPLARS_WEBHOOK_SECRET is not set: verifying webhooks with the development default .*apps\/sample\/\.env/));
    } finally {
      await app.close();
    }
  });

  it('set: only that secret verifies, and nothing warns about it', async () => {
    const logs = new CapturedLogs();
    const app = await startSampleApp({ KEPLARS_WEBHOOK_SECRET: TEST_SECRET }, logs);
    try {
      expect(await statusSignedWith(app, TEST_SECRET)).toBe(200);
      expect(await statusSignedWith(app, DEVELOPMENT_WEBHOOK_SECRET)).toBe(401);
      expect(logs.text()).not.toContain('KEPLARS_WEBHOOK_SECRET');
    } finally {
      await app.close();
    }
  });

  it.each([
    ['unset', undefined],
    ['the development secret', DEVELOPMENT_WEBHOOK_SECRET],
  ])('%s with NODE_ENV=production: the app refuses to start, and says what to set', async (_, secret) => {
    await expect(startSampleApp({ KEPLARS_WEBHOOK_SECRET: secret, NODE_ENV: 'production' })).rejects.toThrow(
      /NODE_ENV is production\. Set KEPLARS_WEBHOOK_SECRET to the webhook signing secret from your Keplars dashboard/,
    );
  });

  it('apps/sample/.env.example holds the development secret, which `npm run send` signs with when there is no .env', () => {
    const example = parseEnv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'));
    expect(example.KEPLARS_WEBHOOK_SECRET).toBe(DEVELOPMENT_WEBHOOK_SECRET);
  });
});

describe('REDIS_URL', () => {
  it('unset or empty: webhooks are handled inline, before the answer, with no Redis and no queue dashboard', async () => {
    const logs = new CapturedLogs();
    const app = await startSampleApp({ REDIS_URL: '', QUEUE_DASHBOARD_PASSWORD: 'set-but-unused' }, logs);
    try {
      const payload = buildKeplarsPayload('email.delivered', { emailId: 'em_inline_1' });
      expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).status).toBe(200);
      expect((await get(app, '/emails/em_inline_1')).body).toMatchObject({ status: 'delivered' }); // no waiting: it ran inline

      expect((await get(app, '/admin/queues')).status).toBe(404);
      expect(logs.text()).not.toMatch(/redis/i);
      expect(logs.lines.filter((line) => line.context === 'QueueDashboard')).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('DATABASE_URL', () => {
  /** The tables in the app's schema: the webhook module's (its marks, and the email ledger's). */
  const tablesOf = async (app: INestApplication, schema: string) =>
    (await databaseOf(app).query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map((row) => row.name);
  const TABLES = KEPLARS_TABLES;

  it('unset: the embedded Postgres (PGlite) in its data folder holds the module\'s tables, and the startup log says how to use a server instead', async () => {
    const logs = new CapturedLogs();
    const env = keptDatabase('PGlite');
    const app = await startSampleApp(env, logs);
    try {
      expect(await tablesOf(app, 'sample')).toEqual(TABLES);
      expect(logs.lines.filter((line) => line.context === 'Database').map((line) => line.message)).toEqual([
        expect.stringMatching(new RegExp(`^Embedded Postgres \\(PGlite\\) at ${env.PGLITE_DATA_DIR}, schema "sample", opened in [\\d.]+ s\\. Set DATABASE_URL to use your own Postgres\\.$`)),
      ]);
    } finally {
      await app.close();
    }
  });

  it('set: the webhook module\'s tables (marks, email ledger) are in that Postgres, in DATABASE_SCHEMA', async () => {
    const logs = new CapturedLogs();
    const env = keptDatabase('Postgres');
    const app = await startSampleApp(env, logs);
    try {
      expect(await tablesOf(app, env.DATABASE_SCHEMA!)).toEqual(TABLES);
      expect(logs.text()).toContain(`Postgres at ${env.DATABASE_URL}, schema "${env.DATABASE_SCHEMA}"`);
      expect(logs.text()).not.toContain('PGlite');
    } finally {
      await app.close();
    }
  });

  it('set to a server that is not there: the app refuses to start, and says what to check', async () => {
    await expect(startSampleApp({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' })).rejects.toThrow(
      /^Cannot use Postgres at postgres:\/\/postgres@127\.0\.0\.1:1\/test \(.*ECONNREFUSED.*\): check DATABASE_URL, that Postgres is running/,
    );
  });
});
