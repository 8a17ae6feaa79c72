import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { connectPostgres, dropSchemas, uniqueSchema } from '../../../../test/support/postgres.js';
import type { KeplarsEvent } from '../core/0-event/keplars-event.js';
import { EmailLedger, KeplarsAddressError, type EmailLedgerSettings } from '../core/email-ledger/email-ledger.js';
import { KeplarsLedgerInputError } from '../core/email-ledger/ledger-cursor.js';
import type { EmailLedgerStore } from '../core/email-ledger/email-ledger-store.js';
import { KeplarsCursorError } from '../core/email-ledger/ledger-cursor.js';
import { ledgerEntryOf, type LedgerScope } from '../core/email-ledger/ledger-entry.js';
import { MemoryEmailLedgerStore } from './memory-store/memory-email-ledger.store.js';
import { PgPoolConnection, type KeplarsPgPool } from './postgres-store/pg-pool-connection.js';
import { PGliteConnection, type KeplarsPGlite } from './postgres-store/pglite-connection.js';
import { PostgresEmailLedgerStore } from './postgres-store/postgres-email-ledger.store.js';
import { migrate } from './postgres-store/postgres-migrations.js';
import { postgresTables } from './postgres-store/postgres-schema.js';

// SPEC §8, the same cases on every store the ledger runs on: memory, Postgres through a pg pool, and
// PGlite. Through the core's EmailLedger, as the module's handler and KeplarsEmailLedger call it.

const DAY = 86_400_000;
const HOUR = 3_600_000;
let pool: pg.Pool;
let pglite: PGlite;
const schema = uniqueSchema('ledger_stores');
beforeAll(async () => {
  pool = connectPostgres();
  pglite = new PGlite();
  await migrate(new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false), postgresTables(schema));
  await migrate(new PGliteConnection(pglite as unknown as KeplarsPGlite, 'PGlite', false), postgresTables(schema));
}, 30_000); // PGlite's start takes seconds on a loaded machine
afterAll(async () => {
  await pool.end();
  await pglite.close();
  await dropSchemas(schema);
});

const stores: [string, () => EmailLedgerStore][] = [
  ['memory', () => new MemoryEmailLedgerStore()],
  ['postgres', () => new PostgresEmailLedgerStore(new PgPoolConnection(pool as unknown as KeplarsPgPool, 'Postgres', false), postgresTables(schema))],
  ['pglite', () => new PostgresEmailLedgerStore(new PGliteConnection(pglite as unknown as KeplarsPGlite, 'PGlite', false), postgresTables(schema))],
];

const settings = (policy: Partial<EmailLedgerSettings['policy']> = {}): EmailLedgerSettings => ({
  policy: { softBounces: { count: 3, windowMs: 7 * DAY }, expiresAfterMs: {}, shared: false, ...policy },
  retentionMs: 90 * DAY,
  pruneIntervalMs: 0,
});

interface EventFields {
  id?: string;
  emailId?: string | undefined;
  at?: number;
  recipient?: string | undefined;
  subject?: string;
  bounceType?: 'hard' | 'soft';
  url?: string;
  endpoint?: string;
  tenant?: string;
}

/** A canonical event, as the normaliser hands it to handlers. */
function event(type: string, fields: EventFields = {}): KeplarsEvent {
  return {
    type,
    id: fields.id ?? `evt_${randomUUID()}`,
    timestamp: new Date(fields.at ?? Date.now()),
    emailId: 'emailId' in fields ? fields.emailId : 'em_1',
    recipient: 'recipient' in fields ? fields.recipient : 'ann@example.com',
    subject: fields.subject,
    workspaceId: undefined,
    metadata: {},
    body: {},
    endpoint: fields.endpoint ?? 'default',
    tenant: fields.tenant,
    ...(type === 'email.bounced' ? { bounceType: fields.bounceType, bounceReason: fields.bounceType === 'soft' ? 'Mailbox full' : 'No such user' } : {}),
    ...(type === 'email.clicked' ? { url: fields.url ?? 'https://example.com/a' } : {}),
    ...(type === 'email.failed' ? { failureReason: 'SMTP 554' } : {}),
  } as KeplarsEvent;
}

describe.each(stores)('the email ledger on the %s store', (_, createStore) => {
  const warnings: string[] = [];
  const log = { log: () => undefined, warn: (line: string) => warnings.push(line), error: () => undefined };
  let ledger: EmailLedger;
  /** Every case in its own endpoint, so the stores' tables can be shared by the cases. */
  let scope: LedgerScope;
  const at = (fields: EventFields = {}): EventFields => ({ endpoint: scope.endpoint, ...fields });
  const record = (type: string, fields: EventFields = {}) => ledger.record(event(type, at(fields)));

  const open = async (policy: Partial<EmailLedgerSettings['policy']> = {}) => {
    ledger = new EmailLedger(scope.endpoint, createStore(), settings(policy), log);
    await ledger.open();
  };
  beforeEach(async () => {
    scope = { endpoint: `ep_${randomUUID().slice(0, 8)}`, tenant: '' };
    warnings.length = 0;
    await open();
  });
  afterEach(() => ledger?.close());

  describe('the status', () => {
    it('only moves forward, whatever order the events arrive in', async () => {
      const t = Date.now() - HOUR;
      await record('email.clicked', { at: t + 40 });
      await record('email.sent', { at: t + 10 });
      await record('email.delivered', { at: t + 20 });
      expect((await ledger.email('em_1', scope))?.status).toBe('clicked');
      await record('email.bounced', { at: t + 50, bounceType: 'hard' });
      await record('email.delivered', { at: t + 60 });
      const email = await ledger.email('em_1', scope);
      expect(email).toMatchObject({ status: 'bounced', final: true, events: 5 });
    });

    it('lets the strongest final status win: a complaint over a bounce, either way round', async () => {
      await record('email.complained', { emailId: 'em_a' });
      await record('email.bounced', { emailId: 'em_a', bounceType: 'hard' });
      await record('email.bounced', { emailId: 'em_b', bounceType: 'hard' });
      await record('email.complained', { emailId: 'em_b' });
      expect((await ledger.email('em_a', scope))?.status).toBe('complained');
      expect((await ledger.email('em_b', scope))?.status).toBe('complained');
    });

    it('puts a type it does not know on the timeline without moving the status', async () => {
      await record('email.unsubscribed', { emailId: 'em_new' });
      expect(await ledger.email('em_new', scope)).toMatchObject({ status: undefined, final: false, events: 1 });
      await record('email.sent', { emailId: 'em_new' });
      await record('email.rendered', { emailId: 'em_new' });
      const email = await ledger.email('em_new', scope);
      expect(email?.status).toBe('sent');
      expect(email?.timeline.map((entry) => entry.type).sort()).toEqual(['email.rendered', 'email.sent', 'email.unsubscribed']);
    });
  });

  describe('the timeline and engagement', () => {
    it('records an event once however often it comes, and counts opens and clicks once per event', async () => {
      const t = Date.now() - HOUR;
      const open1 = event('email.opened', at({ at: t + 30 }));
      expect(await ledger.record(open1)).toMatchObject({ recorded: true });
      expect(await ledger.record(open1)).toMatchObject({ recorded: false });
      await record('email.opened', { at: t + 10 });
      await record('email.opened', { at: t + 20 });
      await record('email.clicked', { at: t + 25, url: 'https://example.com/pricing' });
      const email = await ledger.email('em_1', scope);
      expect(email?.opens).toEqual({ count: 3, first: new Date(t + 10), last: new Date(t + 30) });
      expect(email?.clicks).toEqual({ count: 1, first: new Date(t + 25), last: new Date(t + 25) });
      expect(email?.timeline.map((entry) => entry.occurredAt.getTime())).toEqual([t + 10, t + 20, t + 25, t + 30]);
      expect(email?.timeline[2]).toMatchObject({ type: 'email.clicked', url: 'https://example.com/pricing' });
      expect(email).toMatchObject({ events: 4, firstEventAt: new Date(t + 10), lastEventAt: new Date(t + 30) });
    });

    it('takes the recipient and subject from the earliest event that names them', async () => {
      const t = Date.now() - HOUR;
      await record('email.opened', { at: t + 20, recipient: 'late@example.com', subject: 'Late' });
      await record('email.sent', { at: t + 10, recipient: undefined, subject: 'First' });
      await record('email.queued', { at: t + 15, recipient: 'early@example.com' });
      expect(await ledger.email('em_1', scope)).toMatchObject({ recipient: 'early@example.com', subject: 'First' });
    });

    it('keeps the type\'s own fields: bounce kind and reason, failure cause', async () => {
      await record('email.bounced', { bounceType: 'soft' });
      await record('email.failed');
      const timeline = (await ledger.email('em_1', scope))!.timeline;
      expect(timeline.find((entry) => entry.type === 'email.bounced')).toMatchObject({ bounceType: 'soft', bounceReason: 'Mailbox full' });
      expect(timeline.find((entry) => entry.type === 'email.failed')).toMatchObject({ failureReason: 'SMTP 554' });
    });

    it('keeps an event without an email id on no email, and says so once', async () => {
      expect(await ledger.record(event('email.delivered', at({ emailId: undefined, id: 'evt_orphan' })))).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('email.delivered evt_orphan names no email (no email_id)')]);
      expect((await ledger.emails(scope.tenant, 10, undefined)).items).toEqual([]);
    });

    it('keeps two endpoints\' and two tenants\' email_456 apart', async () => {
      await record('email.opened', { emailId: 'email_456', tenant: 'acme' });
      await record('email.bounced', { emailId: 'email_456', tenant: 'globex', bounceType: 'hard' });
      expect((await ledger.email('email_456', { ...scope, tenant: 'acme' }))?.status).toBe('opened');
      expect((await ledger.email('email_456', { ...scope, tenant: 'globex' }))?.status).toBe('bounced');
      expect(await ledger.email('email_456', scope)).toBeUndefined();
    });
  });

  describe('the suppression list', () => {
    const suppressed = async (address = 'ann@example.com', tenant = '') => (await ledger.check([address], { ...scope, tenant }))[0]!;

    it('suppresses after a hard bounce and after a complaint, with reason and since', async () => {
      const t = Date.now() - HOUR;
      const bounce = event('email.bounced', at({ at: t, bounceType: 'hard', recipient: ' Ann@Example.com ' }));
      await ledger.record(bounce);
      expect(await suppressed('ANN@example.com')).toEqual({ address: 'ANN@example.com', sendable: false, suppressed: expect.objectContaining({ reason: 'hard-bounce', since: new Date(t), eventId: bounce.id }) });
      await record('email.complained', { recipient: 'bob@example.com', emailId: 'em_2' });
      expect((await suppressed('bob@example.com')).suppressed?.reason).toBe('complaint');
      expect(await suppressed('carol@example.com')).toEqual({ address: 'carol@example.com', sendable: true, suppressed: undefined });
    });

    it('does not suppress after a bounce Keplars did not call hard, nor for an event without a recipient', async () => {
      await record('email.bounced', {});
      await record('email.complained', { recipient: undefined, id: 'evt_no_rcpt' });
      expect((await suppressed()).sendable).toBe(true);
      expect(warnings).toEqual([expect.stringContaining('email.complained evt_no_rcpt names no recipient')]);
    });

    it('suppresses on the third soft bounce within the window, whatever order they arrive in', async () => {
      const t = Date.now() - 2 * DAY;
      await record('email.bounced', { bounceType: 'soft', at: t + 2 * HOUR });
      await record('email.bounced', { bounceType: 'soft', at: t - 10 * DAY }); // outside the window
      expect((await suppressed()).sendable).toBe(true);
      await record('email.bounced', { bounceType: 'soft', at: t + 3 * HOUR });
      expect((await suppressed()).sendable).toBe(true);
      // Arrives last but happened first: the third bounce's window now holds three.
      await record('email.bounced', { bounceType: 'soft', at: t + 1 * HOUR });
      expect((await suppressed()).suppressed).toMatchObject({ reason: 'soft-bounces', since: new Date(t + 3 * HOUR) });
    });

    it('lets a suppression expire when its reason has an expiry', async () => {
      await open({ expiresAfterMs: { 'hard-bounce': 10 * DAY } });
      await record('email.bounced', { bounceType: 'hard', at: Date.now() - 11 * DAY, recipient: 'old@example.com' });
      expect((await suppressed('old@example.com')).sendable).toBe(true);
      const t = Date.now() - DAY;
      await record('email.bounced', { bounceType: 'hard', at: t });
      expect((await suppressed()).suppressed).toMatchObject({ reason: 'hard-bounce', expiresAt: new Date(t + 10 * DAY) });
    });

    it('is changed by hand with an actor and a reason, every change recorded', async () => {
      expect(await ledger.reactivate('ann@example.com', { actor: 'support' }, scope)).toBe(false);
      expect(await ledger.suppress('Ann@example.com', { actor: 'support', note: 'asked by phone' }, scope)).toBe(true);
      expect(await ledger.suppress('ann@example.com', { actor: 'manager', note: 'and by letter' }, scope)).toBe(false); // already: still recorded
      expect((await suppressed()).suppressed).toMatchObject({ reason: 'manual', actor: 'support', note: 'asked by phone' });
      expect(await ledger.reactivate('ann@example.com', { actor: 'lead', note: 'wrote back' }, scope)).toBe(true);
      expect((await suppressed()).sendable).toBe(true);
      const history = await ledger.changes('ann@example.com', scope);
      expect(history).toEqual([
        expect.objectContaining({ change: 'suppressed', reason: 'manual', actor: 'support', note: 'asked by phone', address: 'ann@example.com' }),
        expect.objectContaining({ change: 'suppressed', reason: 'manual', actor: 'manager', note: 'and by letter', address: 'ann@example.com' }),
        expect.objectContaining({ change: 'reactivated', actor: 'lead', note: 'wrote back', address: 'ann@example.com' }),
      ]);
      expect(history[0]!.at.getTime()).toBeLessThanOrEqual(history[2]!.at.getTime());
    });

    it('gives a manual suppression the policy\'s expiry, and refuses an expiry that is no date or is past', async () => {
      await open({ expiresAfterMs: { manual: 30 * DAY } });
      const before = Date.now();
      await ledger.suppress('ann@example.com', { actor: 'support' }, scope);
      const expiresAt = (await suppressed()).suppressed!.expiresAt!.getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY - 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY + 1000);
      await expect(ledger.suppress('bob@example.com', { actor: 'support', expiresAt: new Date('nope') }, scope)).rejects.toThrow(KeplarsLedgerInputError);
      await expect(ledger.suppress('bob@example.com', { actor: 'support', expiresAt: new Date(Date.now() - 1000) }, scope)).rejects.toThrow(/expiresAt must be a Date in the future/);
      await expect(ledger.check([42 as unknown as string], scope)).rejects.toThrow(KeplarsLedgerInputError);
    });

    it('keeps two tenants\' events apart in a shared list, even with one id', async () => {
      await open({ shared: true, softBounces: { count: 2, windowMs: DAY } });
      await record('email.bounced', { id: 'evt_same', tenant: 't1', bounceType: 'soft', recipient: 'dan@example.com' });
      expect((await suppressed('dan@example.com', 't2')).sendable).toBe(true);
      const second = event('email.bounced', at({ id: 'evt_same', tenant: 't2', bounceType: 'soft', recipient: 'dan@example.com', emailId: 'em_t2' }));
      expect((await ledger.record(second))?.suppressed).toMatchObject({ reason: 'soft-bounces' });
      expect((await suppressed('dan@example.com', 't1')).sendable).toBe(false);
      // Another endpoint's shared list is its own.
      expect((await ledger.check(['dan@example.com'], { endpoint: `${scope.endpoint}_other`, tenant: '' }))[0]!.sendable).toBe(true);
    });

    it('suppresses a reactivated address again when it bounces hard again, not for a bounce from before', async () => {
      const old = event('email.bounced', at({ bounceType: 'hard', at: Date.now() - HOUR }));
      await ledger.record(old);
      expect(await ledger.reactivate('ann@example.com', { actor: 'support' }, scope)).toBe(true);
      await record('email.bounced', { bounceType: 'hard', at: Date.now() - 30 * 60_000, emailId: 'em_earlier' });
      expect((await suppressed()).sendable).toBe(true);
      const again = event('email.bounced', at({ bounceType: 'hard', at: Date.now() + 1000, emailId: 'em_3' }));
      const write = await ledger.record(again);
      expect(write?.suppressed).toMatchObject({ change: 'suppressed', reason: 'hard-bounce', eventId: again.id, address: 'ann@example.com' });
      expect((await suppressed()).suppressed?.eventId).toBe(again.id);
      expect((await ledger.changes('ann@example.com', scope)).map((change) => change.change)).toEqual(['suppressed', 'reactivated', 'suppressed']);
    });

    it('tells which addresses an event suppressed, and records no change when already suppressed', async () => {
      const first = event('email.bounced', at({ bounceType: 'hard' }));
      const second = event('email.complained', at({ emailId: 'em_2' }));
      expect((await ledger.record(first))?.suppressed?.reason).toBe('hard-bounce');
      expect((await ledger.record(second))?.suppressed).toBeUndefined();
      expect(await ledger.store.suppressedBy(scope, first.id)).toEqual([expect.objectContaining({ change: 'suppressed', eventId: first.id, emailId: 'em_1' })]);
      expect(await ledger.store.suppressedBy(scope, second.id)).toEqual([]);
    });

    it('checks many addresses at once, in the order given', async () => {
      await record('email.bounced', { bounceType: 'hard', recipient: 'gone@example.com' });
      const standings = await ledger.check(['ok@example.com', 'GONE@example.com', '', 'gone@example.com'], scope);
      expect(standings.map((standing) => [standing.address, standing.sendable])).toEqual([
        ['ok@example.com', true],
        ['GONE@example.com', false],
        ['', false],
        ['gone@example.com', false],
      ]);
    });

    it('refuses to suppress what is not an address', async () => {
      await expect(ledger.suppress('not an address', { actor: 'x' }, scope)).rejects.toThrow(KeplarsAddressError);
    });

    it('is one list per tenant, or one for all when shared', async () => {
      await record('email.bounced', { bounceType: 'hard', tenant: 'acme' });
      expect((await suppressed('ann@example.com', 'acme')).sendable).toBe(false);
      expect((await suppressed('ann@example.com', 'globex')).sendable).toBe(true);
      await open({ shared: true });
      await record('email.bounced', { bounceType: 'hard', tenant: 'acme', recipient: 'dan@example.com' });
      expect((await suppressed('dan@example.com', 'globex')).sendable).toBe(false);
      expect((await ledger.suppressions({ ...scope, tenant: 'initech' }, 10, undefined)).items.map((item) => item.address)).toEqual(['dan@example.com']);
    });
  });

  describe('pages', () => {
    it('lists suppressions newest first, page by page, each once', async () => {
      const t = Date.now() - HOUR;
      for (let i = 0; i < 5; i++) await record('email.bounced', { bounceType: 'hard', recipient: `p${i}@example.com`, emailId: `em_${i}`, at: t + (i % 3) * 1000 });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.suppressions(scope, 2, cursor);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.address!));
        cursor = page.next;
      } while (cursor);
      expect(seen.sort()).toEqual(['p0@example.com', 'p1@example.com', 'p2@example.com', 'p3@example.com', 'p4@example.com']);
      await expect(ledger.suppressions(scope, 2, 'not-a-cursor')).rejects.toThrow(KeplarsCursorError);
      await expect(ledger.emails(undefined, 2, Buffer.from(JSON.stringify(['x', 'a', 'b', 'c'])).toString('base64url'))).rejects.toThrow(KeplarsCursorError);
    });

    it('lists emails by their first event, newest first', async () => {
      const t = Date.now() - HOUR;
      for (let i = 0; i < 5; i++) await record('email.sent', { emailId: `em_${i}`, at: t + (i === 4 ? 0 : i * 1000) });
      const first = await ledger.emails(scope.tenant, 3, undefined);
      const second = await ledger.emails(scope.tenant, 3, first.next);
      expect([...first.items, ...second.items].map((email) => email.emailId)).toEqual(['em_3', 'em_2', 'em_1', 'em_0', 'em_4']);
      expect(second.next).toBeUndefined();
    });
  });

  describe('retention and erasure', () => {
    it('prunes emails whose last event is older than the retention', async () => {
      await record('email.delivered', { emailId: 'em_old', at: Date.now() - 91 * DAY });
      await record('email.delivered', { emailId: 'em_new', at: Date.now() - DAY });
      expect(await ledger.prune()).toBeGreaterThanOrEqual(1);
      expect(await ledger.email('em_old', scope)).toBeUndefined();
      expect(await ledger.email('em_new', scope)).toBeDefined();
    });

    it('forgets an address: its emails and its name go, its suppression stays, by hash', async () => {
      await record('email.bounced', { bounceType: 'hard', recipient: 'Erin@example.com', emailId: 'em_erin' });
      await record('email.delivered', { recipient: 'frank@example.com', emailId: 'em_frank' });
      expect(await ledger.forget('erin@EXAMPLE.com')).toBe(1);
      expect(await ledger.forget('erin@example.com')).toBe(0); // asked twice (or by two ledgers on one database): recorded once
      expect(await ledger.email('em_erin', scope)).toBeUndefined();
      expect(await ledger.email('em_frank', scope)).toBeDefined();
      expect((await ledger.check(['erin@example.com'], scope))[0]!.sendable).toBe(false);
      const [listed] = (await ledger.suppressions(scope, 10, undefined)).items;
      expect(listed).toMatchObject({ address: undefined, reason: 'hard-bounce' });
      const history = await ledger.changes('erin@example.com', scope);
      expect(history.map((change) => [change.change, change.address])).toEqual([
        ['suppressed', undefined],
        ['forgotten', undefined],
      ]);
    });
  });
});

describe.each(stores.filter(([name]) => name !== 'memory'))('the email ledger on %s, under concurrency', (_, createStore) => {
  it('counts every one of many concurrent events of one email exactly once', async () => {
    const endpoint = `ep_${randomUUID().slice(0, 8)}`;
    const ledger = new EmailLedger(endpoint, createStore(), settings(), { log: () => undefined, warn: () => undefined, error: () => undefined });
    await ledger.open();
    const opens = Array.from({ length: 40 }, (_, i) => event('email.opened', { endpoint, at: Date.now() - i * 1000 }));
    await Promise.all([...opens, ...opens].map((open) => ledger.record(open)));
    expect(await ledger.email('em_1', { endpoint, tenant: '' })).toMatchObject({ status: 'opened', events: 40, opens: expect.objectContaining({ count: 40 }) });
  });
});

describe.each(stores.filter(([name]) => name !== 'memory'))('the email ledger on %s, a turn at a time', (_, createStore) => {
  const open = async (endpoint: string) => {
    const ledger = new EmailLedger(endpoint, createStore(), settings(), { log: () => undefined, warn: () => undefined, error: () => undefined });
    await ledger.open();
    return ledger;
  };

  it('records a turn\'s events in one statement, each once, however often they come', async () => {
    const endpoint = `ep_${randomUUID().slice(0, 8)}`;
    const ledger = await open(endpoint);
    const t = Date.now() - HOUR;
    const events = Array.from({ length: 30 }, (_, i) => event(i % 3 === 0 ? 'email.clicked' : 'email.opened', { endpoint, emailId: `em_${i % 4}`, at: t + i * 1000, recipient: i === 0 ? undefined : `p${i % 4}@example.com` }));
    const first = await Promise.all(events.map((each) => ledger.record(each)));
    expect(first.every((write) => write?.recorded === true)).toBe(true);
    const again = await Promise.all([...events, ...events].map((each) => ledger.record(each)));
    expect(again.every((write) => write?.recorded === false)).toBe(true);
    for (let e = 0; e < 4; e++) {
      const mine = events.filter((each) => each.emailId === `em_${e}`);
      const times = (type: string) => mine.filter((each) => each.type === type).map((each) => each.timestamp.getTime());
      expect(await ledger.email(`em_${e}`, { endpoint, tenant: '' })).toMatchObject({
        events: mine.length,
        status: times('email.clicked').length > 0 ? 'clicked' : 'opened',
        recipient: `p${e}@example.com`,
        opens: { count: times('email.opened').length, first: new Date(Math.min(...times('email.opened'))), last: new Date(Math.max(...times('email.opened'))) },
        clicks: expect.objectContaining({ count: times('email.clicked').length }),
      });
    }
  });

  it('lists an endpoint\'s emails only, though every endpoint shares the tables', async () => {
    const [a, b] = [`ep_${randomUUID().slice(0, 8)}`, `ep_${randomUUID().slice(0, 8)}`];
    const [ledgerA, ledgerB] = [await open(a), await open(b)];
    await ledgerA.record(event('email.sent', { endpoint: a, emailId: 'em_a' }));
    await ledgerB.record(event('email.sent', { endpoint: b, emailId: 'em_b', tenant: 'acme' }));
    expect((await ledgerA.emails(undefined, 50, undefined)).items.map((email) => email.emailId)).toEqual(['em_a']);
    expect((await ledgerB.emails(undefined, 50, undefined)).items.map((email) => [email.emailId, email.tenant])).toEqual([['em_b', 'acme']]);
  });

  it('fails only the event the database refuses, not its turn\'s neighbours', async () => {
    const endpoint = `ep_${randomUUID().slice(0, 8)}`;
    const ledger = await open(endpoint);
    const good = [event('email.sent', { endpoint, emailId: 'em_ok_1' }), event('email.sent', { endpoint, emailId: 'em_ok_2' })];
    const refused = { ...ledgerEntryOf(event('email.sent', { endpoint, emailId: 'em_bad' }))!, occurredAt: new Date(Number.NaN) };
    const results = await Promise.allSettled([ledger.record(good[0]!), ledger.store.record(refused, undefined, ledger.settings.policy), ledger.record(good[1]!)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await ledger.emails(undefined, 50, undefined)).items.map((email) => email.emailId).sort()).toEqual(['em_ok_1', 'em_ok_2']);
  });

  it('applies a suppression that a crash left undone: the retry finds the record, and still suppresses, once', async () => {
    const endpoint = `ep_${randomUUID().slice(0, 8)}`;
    const ledger = await open(endpoint);
    const bounce = event('email.complained', { endpoint, recipient: 'late@example.com' });
    // The first run recorded the event, then died before its suppression step.
    await ledger.store.record(ledgerEntryOf(bounce)!, undefined, ledger.settings.policy);
    expect((await ledger.check(['late@example.com'], { endpoint, tenant: '' }))[0]!.sendable).toBe(true);
    expect(await ledger.record(bounce)).toMatchObject({ recorded: false, suppressed: { reason: 'complaint', eventId: bounce.id } });
    expect(await ledger.record(bounce)).toEqual({ recorded: false, suppressed: undefined });
    expect((await ledger.check(['late@example.com'], { endpoint, tenant: '' }))[0]!.sendable).toBe(false);
    expect(await ledger.changes('late@example.com', { endpoint, tenant: '' })).toHaveLength(1);
    expect(await ledger.email('em_1', { endpoint, tenant: '' })).toMatchObject({ status: 'complained', events: 1 });
  });

  it('records an event that may suppress, and its suppression, once', async () => {
    const endpoint = `ep_${randomUUID().slice(0, 8)}`;
    const ledger = await open(endpoint);
    const bounce = event('email.bounced', { endpoint, bounceType: 'hard', recipient: 'gone@example.com' });
    const writes = await Promise.all([bounce, bounce, bounce].map((each) => ledger.record(each)));
    // One copy records the event; whichever copy's suppression step takes the address first moves it onto the list.
    expect(writes.filter((write) => write?.recorded)).toHaveLength(1);
    expect(writes.filter((write) => write?.suppressed)).toEqual([expect.objectContaining({ suppressed: expect.objectContaining({ reason: 'hard-bounce' }) })]);
    expect((await ledger.check(['gone@example.com'], { endpoint, tenant: '' }))[0]!.sendable).toBe(false);
    expect(await ledger.email('em_1', { endpoint, tenant: '' })).toMatchObject({ status: 'bounced', events: 1 });
    expect(await ledger.changes('gone@example.com', { endpoint, tenant: '' })).toHaveLength(1);
  });
});
