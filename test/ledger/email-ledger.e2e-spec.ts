import { Injectable, type INestApplication } from '@nestjs/common';
import type { Pool } from 'pg';
import {
  KeplarsEmailLedger,
  KeplarsWebhookModule,
  OnAddressSuppressed,
  type KeplarsAddressSuppressed,
  type KeplarsPgPool,
  type KeplarsWebhookOptions,
} from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../support/captured-logs.js';
import { connectPostgres, dropSchemas, uniqueSchema } from '../support/postgres.js';
import { REDIS_URL } from '../support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// SPEC §8 through the real app over HTTP: the ledger records what Keplars sends in each wire shape,
// @OnAddressSuppressed() runs once per address an event suppressed, a failing reaction is retried alone,
// bad input is answered 200 and logged, and a ledger that cannot work refuses to start.

const SECRET = 'whsec_ledger';
const deliver = (app: INestApplication, payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });

/** A CRM told about suppressed addresses; it refuses the first `failures` calls. */
@Injectable()
class CrmSync {
  failures = 0;
  readonly told: KeplarsAddressSuppressed[] = [];

  @OnAddressSuppressed()
  async markUnreachable(notice: KeplarsAddressSuppressed): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('the CRM answered 503');
    }
    this.told.push(notice);
  }
}

type StoreKind = 'memory' | 'postgres';
const CASES = (['memory', 'postgres'] as const).flatMap((store) => ADAPTERS.map((adapter) => [store, adapter] as const));

describe.each(CASES)('the email ledger on the %s store, over HTTP on %s', (store: StoreKind, adapter: AdapterName) => {
  const schema = uniqueSchema('ledger_e2e');
  const logs = new CapturedLogs();
  let pool: Pool | undefined;
  let app: INestApplication;
  let ledger: KeplarsEmailLedger;
  let crm: CrmSync;

  beforeAll(async () => {
    if (store === 'postgres') pool = connectPostgres();
    const deduplication: KeplarsWebhookOptions['deduplication'] = pool ? { store: { postgres: pool as unknown as KeplarsPgPool, schema } } : {};
    app = await createWebhookApp({ adapter, logger: logs, imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication, ledger: true })], providers: [CrmSync] });
    ledger = app.get(KeplarsEmailLedger);
    crm = app.get(CrmSync);
  });
  afterAll(async () => {
    await app.close();
    await pool?.end();
    if (pool) await dropSchemas(schema);
  });
  beforeEach(() => {
    crm.told.length = 0;
    crm.failures = 0;
  });

  it('records an email from each of the wire shapes Keplars sends', async () => {
    const emailId = `em_shapes_${adapter}`;
    const t = Date.parse('2026-12-01T10:00:00Z');
    await deliver(app, buildKeplarsPayload('email.sent', { shape: 'flat', emailId, recipient: 'shapes@example.com', subject: 'Your order', timestamp: new Date(t) }));
    await deliver(app, buildKeplarsPayload('email.clicked', { shape: 'event-data', emailId, url: 'https://example.com/track', timestamp: new Date(t + 2000) }));
    await deliver(app, buildKeplarsPayload('email.delivered', { emailId, timestamp: new Date(t + 1000) }));
    const email = await ledger.email(emailId);
    expect(email).toMatchObject({ emailId, status: 'clicked', recipient: 'shapes@example.com', subject: 'Your order', events: 3, clicks: { count: 1, first: new Date(t + 2000), last: new Date(t + 2000) } });
    expect(email?.timeline.map((entry) => entry.type)).toEqual(['email.sent', 'email.delivered', 'email.clicked']);
    expect(email?.timeline[2]).toMatchObject({ url: 'https://example.com/track' });
  });

  it('runs @OnAddressSuppressed() once for the event that suppressed an address, never for a copy or a later event', async () => {
    const address = `gone.${store}.${adapter}@example.com`;
    const bounce = buildKeplarsPayload('email.bounced', { bounceType: 'hard', recipient: address });
    expect((await deliver(app, bounce)).status).toBe(200);
    expect((await deliver(app, bounce)).body).toEqual({ received: true, duplicate: true });
    expect((await deliver(app, buildKeplarsPayload('email.complained', { recipient: address }))).status).toBe(200);
    expect(crm.told).toEqual([expect.objectContaining({ address, reason: 'hard-bounce', eventId: bounce.id, endpoint: 'default' })]);
    expect(await ledger.check(address)).toMatchObject({ sendable: false, suppressed: { reason: 'hard-bounce' } });
  });

  it('retries a failing reaction alone: the ledger records the event once, the CRM is told once', async () => {
    const address = `retry.${store}.${adapter}@example.com`;
    const complaint = buildKeplarsPayload('email.complained', { recipient: address });
    crm.failures = 2;
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await deliver(app, complaint)).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(crm.told.map((notice) => notice.address)).toEqual([address]);
    const email = await ledger.email(String((complaint.data as Record<string, unknown>).email_id));
    expect(email).toMatchObject({ status: 'complained', events: 1 });
    expect((await ledger.history(address)).map((change) => change.change)).toEqual(['suppressed']);
  });

  it('answers 200 to an event without an email id or a recipient, keeps what it can, and says why once', async () => {
    const mark = logs.mark();
    const orphan = buildKeplarsPayload('email.delivered', { extra: { email_id: undefined } });
    const anonymous = buildKeplarsPayload('email.bounced', { bounceType: 'hard', extra: { to: undefined } });
    expect((await deliver(app, orphan)).status).toBe(200);
    expect((await deliver(app, anonymous)).status).toBe(200);
    const warnings = logs.since(mark, 'warn').map((line) => line.message);
    expect(warnings).toEqual([
      expect.stringContaining(`email.delivered ${orphan.id} names no email (no email_id), so it is kept on no email's timeline`),
      expect.stringContaining(`email.bounced ${anonymous.id} names no recipient`),
    ]);
    expect(await ledger.email(String((anonymous.data as Record<string, unknown>).email_id))).toMatchObject({ status: 'bounced', recipient: undefined });
    expect(crm.told).toEqual([]);
  });

  it('changes the list by hand, and reads it a page at a time', async () => {
    const address = `manual.${store}.${adapter}@example.com`;
    expect(await ledger.suppress(address, { actor: 'support@acme.test', note: 'asked to stop' })).toBe(true);
    expect(await ledger.check(address)).toMatchObject({ sendable: false, suppressed: { reason: 'manual', actor: 'support@acme.test' } });
    const listed = await ledger.suppressions({ limit: 500 });
    expect(listed.items.map((item) => item.address)).toContain(address);
    expect(await ledger.reactivate(address, { actor: 'support@acme.test' })).toBe(true);
    expect((await ledger.check(address)).sendable).toBe(true);
    expect(crm.told).toEqual([]); // your app's own change is not reported back to it
  });
});

describe('a ledger that cannot work refuses to start, saying what to change', () => {
  const refusal = async (options: KeplarsWebhookOptions, providers: (typeof CrmSync)[] = []) => {
    try {
      const app = await createWebhookApp({ adapter: 'express', imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, ...options })], providers });
      await app.close();
      return 'started';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it.each([
    ['on the Redis store', { ledger: true, deduplication: { store: { redis: REDIS_URL } } }, /ledger keeps its data in memory or in Postgres.*the store is Redis: use deduplication.store \{ postgres: … \}/],
    ['without deduplication', { ledger: true, deduplication: false }, /ledger needs deduplication/],
    ['with a soft-bounce count of 0', { ledger: { suppressions: { softBounces: { count: 0, withinDays: 7 } } } }, /ledger.suppressions.softBounces must be false or \{ count, withinDays \}/],
    ['with an expiry for a reason that does not exist', { ledger: { suppressions: { expireAfterDays: { 'hard-bounced': 3 } as never } } }, /expireAfterDays has "hard-bounced", which is no reason/],
    ['with a misspelt option', { ledger: { retentionDay: 3 } as never }, /retentionDay/],
  ] as [string, KeplarsWebhookOptions, RegExp][])('%s', async (_, options, message) => {
    expect(await refusal(options)).toMatch(message);
  });

  it('refuses an @OnAddressSuppressed() handler when no endpoint keeps a ledger', async () => {
    expect(await refusal({}, [CrmSync])).toMatch(/@OnAddressSuppressed\(\) on CrmSync.markUnreachable would never run: no import of KeplarsWebhookModule keeps an email ledger/);
  });
});
