import { Injectable, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsDeadLetters, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { runKeplarsWebhookCli } from '../../libs/keplars-webhook/src/cli/run-keplars-webhook.js';
import { dropSchema, POSTGRES_URL, PostgresProxy, queryPostgres, uniqueSchema } from '../support/postgres.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { createWebhookApp } from '../support/webhook-app.js';

// `keplars-webhook dead-letters` against a queue on PostgreSQL (BullMQ's Postgres backend), as an
// operator runs it beside a running app: --postgres and --schema, or KEPLARS_QUEUE_POSTGRES_URL.
const SECRET = 'whsec_dead_letters_cli_postgres';

@Injectable()
class BillingHandlers {
  broken = true;
  readonly charged = new Map<string, number>();

  @OnKeplarsEvent('email.bounced')
  chargeBack(event: KeplarsEvent): void {
    if (this.broken) throw new Error('billing API answered 502');
    this.charged.set(event.id, (this.charged.get(event.id) ?? 0) + 1);
  }
}

describe('keplars-webhook dead-letters on a queue on Postgres', () => {
  const schema = uniqueSchema('cli');
  const dedupPrefix = uniqueKeyPrefix('dead-letters-cli-postgres');
  const where = `queue "keplars-webhook" (schema "${schema}") on ${POSTGRES_URL}`;
  let app: INestApplication;
  let handlers: BillingHandlers;
  let redis: Redis;

  async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeplarsWebhookCli(['dead-letters', ...argv], env, { out: (text) => out.push(text), err: (text) => err.push(text) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    redis = connectRedis();
    app = await createWebhookApp({
      adapter: 'express',
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { postgres: POSTGRES_URL, schema, attempts: 2, backoff: { delaySeconds: 0.05 } },
          deduplication: { store: { redis: REDIS_URL, keyPrefix: dedupPrefix } },
        }),
      ],
      providers: [BillingHandlers],
    });
    handlers = app.get(BillingHandlers);
  });
  afterAll(async () => {
    await app.close();
    await dropSchema(schema);
    await deleteKeys(redis, dedupPrefix);
    await redis.quit();
  });

  it('lists a dead letter with its reason, shows it, and replays it once the handler is fixed', async () => {
    const payload = buildKeplarsPayload('email.bounced');
    const id = String(payload.id);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    await waitFor(async () => (await app.get(KeplarsDeadLetters).show(id)) !== undefined, 'the dead letter');

    const list = await cli(['list', '--postgres', POSTGRES_URL, '--schema', schema]);
    expect(list).toMatchObject({ code: 0, err: '' });
    expect(list.out).toContain(`1 dead letter(s) in ${where}:`);
    expect(list.out).toMatch(new RegExp(`${id}\\s+handlers-failed\\s+email\\.bounced\\s+2 attempt\\(s\\).*billing API answered 502`));

    const shown = await cli(['show', id, '--postgres', POSTGRES_URL, '--schema', schema, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ id, kind: 'handlers-failed', failures: [{ handler: 'BillingHandlers.chargeBack', error: 'Error: billing API answered 502' }] });
    expect(JSON.parse(JSON.parse(shown.out).body)).toEqual(payload);

    handlers.broken = false;
    const replay = await cli(['replay', id, '--schema', schema], { KEPLARS_QUEUE_POSTGRES_URL: POSTGRES_URL });
    expect(replay).toMatchObject({ code: 0, out: `Replayed ${id} in ${where}.` });
    await waitFor(() => handlers.charged.get(id) === 1, 'the replayed event to be handled');
    expect((await cli(['list', '--postgres', POSTGRES_URL, '--schema', schema])).out).toBe(`No dead letters in ${where}.`);
  });

  it('says when the schema holds no queue of the module, and creates nothing there', async () => {
    const elsewhere = uniqueSchema('cli_none');
    const run = await cli(['list', '--postgres', POSTGRES_URL, '--schema', elsewhere]);
    expect(run.code).toBe(1);
    expect(run.err).toBe(`No queue "keplars-webhook" (schema "${elsewhere}") on ${POSTGRES_URL}: the module never wrote one there. Is it the schema of queue.schema (pass it as --schema)?`);
    expect(await queryPostgres('SELECT 1 FROM pg_namespace WHERE nspname = $1', [elsewhere])).toEqual([]);
  });

  it('says it could not reach PostgreSQL, and exits 1', async () => {
    const proxy = await PostgresProxy.start();
    proxy.cut();
    try {
      const run = await cli(['list', '--postgres', proxy.url, '--schema', schema]);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/^Could not reach the queue "keplars-webhook" \(schema "cli_\w+"\) on postgres:\/\/postgres@127\.0\.0\.1:\d+\/test: /);
    } finally {
      await proxy.close();
    }
  });

  it.each([
    [['list', '--redis', REDIS_URL, '--postgres', POSTGRES_URL], 'Name one queue: --redis or --postgres, not both.'],
    [['list', '--postgres', POSTGRES_URL, '--prefix', 'bull'], '--prefix is for a queue on Redis; on Postgres name its --schema.'],
    [['list', '--redis', REDIS_URL, '--schema', 'x'], '--schema is for a queue on Postgres; on Redis name its --prefix.'],
    [['list', '--postgres', 'mysql://localhost'], '--postgres must be a connection string such as postgres://user@localhost:5432/app.'],
  ])('refuses %j with a usage error', async (argv, message) => {
    const run = await cli(argv);
    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
  });
});
