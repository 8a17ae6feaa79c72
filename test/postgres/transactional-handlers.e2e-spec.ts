import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type INestApplication } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { PoolClient, Pool } from 'pg';
import { Column, DataSource, Entity, PrimaryColumn, type EntityManager } from 'typeorm';
import { KeplarsEmailLedger, KeplarsWebhookModule, OnKeplarsEvent, type EmailBouncedEvent, type EmailDeliveredEvent, type KeplarsPGlite, type KeplarsPgPool } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { connectPostgres, dropSchemas, POSTGRES_URL, uniqueSchema } from '../support/postgres.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';
import { CapturedLogs } from '../support/captured-logs.js';

// SPEC §4b: a transactional handler's writes and its mark commit together or not at all. Each case
// runs through the real app over HTTP, on Express and Fastify, with the app's own pg pool, its
// TypeORM DataSource, and PGlite.
const SECRET = 'whsec_transactions';
const deliver = (app: INestApplication, payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });
const APP_POOL = Symbol('APP_POOL');
/** The app's own table, beside the store's: the handler's writes go here. */
const SCHEMA_PG = uniqueSchema('tx_pg');

/** Fails the first `metadata.fail` deliveries of an event after writing, so the rollback shows. */
@Injectable()
class BounceCounter {
  readonly attempts = new Map<string, number>();
  constructor(@Inject(APP_POOL) readonly pool: Pool) {}

  @OnKeplarsEvent('email.bounced', { transaction: 'pg' })
  async count(event: EmailBouncedEvent, client: PoolClient): Promise<void> {
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    await client.query(`INSERT INTO ${SCHEMA_PG}.bounces (event_id, attempt) VALUES ($1, $2)`, [event.id, attempt]);
    if (attempt <= Number(event.metadata?.['fail'] ?? 0)) throw new Error(`CRM refused attempt ${attempt}`);
  }
}

describe.each(ADAPTERS)('transactional handlers on the app\'s own pg pool, on %s', (adapter: AdapterName) => {
  const schema = uniqueSchema('tx_marks');
  let pool: Pool;
  let app: INestApplication;

  beforeAll(async () => {
    pool = connectPostgres();
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA_PG}`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_PG}.bounces (event_id text, attempt int)`);
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { postgres: pool as unknown as KeplarsPgPool, schema } } })],
      providers: [BounceCounter, { provide: APP_POOL, useValue: pool }],
    });
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    await dropSchemas(schema, SCHEMA_PG);
  });
  const rows = async (id: string) => (await pool.query(`SELECT attempt FROM ${SCHEMA_PG}.bounces WHERE event_id = $1 ORDER BY attempt`, [id])).rows.map((row) => row.attempt);

  it('commits its write with its mark: a redelivery is a duplicate, and the row exists once', async () => {
    const payload = buildKeplarsPayload('email.bounced');
    expect((await deliver(app, payload)).status).toBe(200);
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true });
    expect(await rows(String(payload.id))).toEqual([1]);
  });

  it('rolls back the write of a handler that throws; the retry commits once', async () => {
    const payload = buildKeplarsPayload('email.bounced', { metadata: { fail: 2 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await deliver(app, payload)).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(await rows(String(payload.id))).toEqual([3]);
  });

  it('commits once across concurrent copies of an event', async () => {
    const payload = buildKeplarsPayload('email.bounced');
    for (let round = 0; round < 20; round++) {
      const responses = await Promise.all(Array.from({ length: 4 }, () => deliver(app, payload)));
      if (responses.some((response) => response.status === 200)) break;
    }
    expect(await rows(String(payload.id))).toEqual([1]);
  });

  it('runs again, but commits nothing twice, when its mark committed and the event\'s own record was lost (a crash between them)', async () => {
    const payload = buildKeplarsPayload('email.bounced');
    expect((await deliver(app, payload)).status).toBe(200);
    // The crash: the handler's transaction committed, the event's "done" never did.
    await pool.query(`DELETE FROM ${schema}.keplars_events WHERE event_key = $1`, [String(payload.id)]);
    expect((await deliver(app, payload)).status).toBe(200);
    expect(await rows(String(payload.id))).toEqual([1]);
    expect(app.get(BounceCounter).attempts.get(String(payload.id))).toBe(1); // the mark was found before the handler ran
  });
});

@Entity({ name: 'email_statuses' })
class EmailStatus {
  @PrimaryColumn({ name: 'email_id', type: 'text' })
  emailId!: string;
  @Column({ type: 'text' })
  status!: string;
  @Column({ type: 'int', default: 0 })
  deliveries!: number;
}

@Injectable()
class DeliveryProjection {
  failNext = 0;

  @OnKeplarsEvent('email.delivered', { transaction: 'typeorm' })
  async project(event: EmailDeliveredEvent, manager: EntityManager): Promise<void> {
    const statuses = manager.getRepository(EmailStatus);
    const current = await statuses.findOneBy({ emailId: event.emailId });
    await statuses.save({ emailId: event.emailId, status: 'delivered', deliveries: (current?.deliveries ?? 0) + 1 });
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('the projection failed after its write');
    }
  }
}

describe.each(ADAPTERS)('transactional handlers on the app\'s TypeORM DataSource, on %s', (adapter: AdapterName) => {
  const schema = uniqueSchema('tx_typeorm');
  let app: INestApplication;
  let dataSource: DataSource;

  beforeAll(async () => {
    const pool = connectPostgres();
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.end();
    app = await createWebhookApp({
      adapter,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: POSTGRES_URL, schema, entities: [EmailStatus], synchronize: true }),
        TypeOrmModule.forFeature([EmailStatus]),
        KeplarsWebhookModule.forRootAsync({
          inject: [DataSource],
          useFactory: (source: DataSource) => ({ secret: SECRET, deduplication: { store: { postgres: source, schema } }, ledger: true }),
        }),
      ],
      providers: [DeliveryProjection],
    });
    dataSource = app.get(DataSource);
  });
  afterAll(async () => {
    await app.close();
    await dropSchemas(schema);
  });

  it('writes the entity once when the handler succeeds, however often the event is delivered', async () => {
    const emailId = `email_${randomUUID()}`;
    const payload = buildKeplarsPayload('email.delivered', { emailId });
    for (let i = 0; i < 3; i++) expect((await deliver(app, payload)).status).toBe(200);
    const saved = await dataSource.getRepository(EmailStatus).findOneByOrFail({ emailId });
    expect(saved).toMatchObject({ status: 'delivered', deliveries: 1 });
  });

  it('rolls the entity back with the mark when the handler throws, then commits it exactly once', async () => {
    const emailId = `email_${randomUUID()}`;
    const payload = buildKeplarsPayload('email.delivered', { emailId });
    app.get(DeliveryProjection).failNext = 1;
    expect((await deliver(app, payload)).status).toBe(500);
    expect(await dataSource.getRepository(EmailStatus).findOneBy({ emailId })).toBeNull();
    expect((await deliver(app, payload)).status).toBe(200);
    expect((await deliver(app, payload)).status).toBe(200);
    expect(await dataSource.getRepository(EmailStatus).findOneByOrFail({ emailId })).toMatchObject({ deliveries: 1 });
    // The email ledger's own handler runs in a transaction of its own on the DataSource: it committed on
    // the first delivery and did not run again.
    expect(await app.get(KeplarsEmailLedger).email(emailId)).toMatchObject({ status: 'delivered', events: 1 });
  });

  it('keeps the email ledger in the DataSource\'s transactions', async () => {
    const emailId = `email_${randomUUID()}`;
    const opens = [buildKeplarsPayload('email.opened', { emailId }), buildKeplarsPayload('email.opened', { emailId })];
    for (const payload of [...opens, ...opens]) expect((await deliver(app, payload)).status).toBe(200);
    expect(await app.get(KeplarsEmailLedger).email(emailId)).toMatchObject({ status: 'opened', events: 2, opens: { count: 2 } });
  });
});

@Injectable()
class OpenCounter {
  @OnKeplarsEvent('email.opened', { transaction: 'pglite' })
  async count(event: { id: string }, transaction: Transaction): Promise<void> {
    await transaction.query('INSERT INTO opens (event_id) VALUES ($1)', [event.id]);
  }
}

describe.each(ADAPTERS)('transactional handlers on PGlite, in the app\'s process, on %s', (adapter: AdapterName) => {
  let db: PGlite;
  let app: INestApplication;

  beforeAll(async () => {
    db = new PGlite();
    await db.query('CREATE TABLE opens (event_id text)');
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { pglite: db as unknown as KeplarsPGlite } } })],
      providers: [OpenCounter],
    });
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  it('writes in the transaction of its mark, once per event', async () => {
    const payload = buildKeplarsPayload('email.opened');
    await Promise.all(Array.from({ length: 3 }, () => deliver(app, payload)));
    for (let i = 0; i < 20 && (await deliver(app, payload)).status !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM opens WHERE event_id = $1', [String(payload.id)]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('a transactional handler on a store that cannot give it its transaction', () => {
  const refusal = async (deduplication: object | false) => {
    const logs = new CapturedLogs();
    return createWebhookApp({
      adapter: 'express',
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: deduplication as never })],
      providers: [BounceCounter, { provide: APP_POOL, useValue: undefined }],
      logger: logs,
    }).then(
      async (app) => {
        await app.close();
        throw new Error('the app started');
      },
      (error: Error) => error.message,
    );
  };

  it('refuses to start on the memory store, naming the store to use', async () => {
    expect(await refusal({ store: 'memory' })).toMatch(/BounceCounter\.count runs in a transaction \(\{ transaction: 'pg' \}\), but the deduplication store has no transactions\. Set deduplication\.store to \{ postgres: yourPgPool \}/);
  });

  it('refuses to start with deduplication off', async () => {
    expect(await refusal(false)).toMatch(/BounceCounter\.count runs in a transaction .* but deduplication is off/);
  });

  it('refuses to start on PGlite, whose transactions are not pg clients', async () => {
    const db = new PGlite();
    try {
      expect(await refusal({ store: { pglite: db } })).toMatch(/asks for a 'pg' transaction, but the deduplication store hands out 'pglite' ones/);
    } finally {
      await db.close();
    }
  });
});

