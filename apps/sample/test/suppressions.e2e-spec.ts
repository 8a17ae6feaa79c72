import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsPayloadOverrides } from 'nestjs-keplars-webhook/testing';
import request from 'supertest';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { ADAPTERS } from '../../../test/support/webhook-app.js';
import { LOGIC_DATABASES, get, getAll, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The suppression list the webhook module keeps from bounces and complaints, as the sample serves it:
// GET /suppressions, GET /suppressions/:address, POST /suppressions, DELETE /suppressions/:address,
// and the sample's @OnAddressSuppressed() handler. Over HTTP on Express and Fastify.

const DAY = 24 * 60 * 60_000;
const at = (minute: number) => new Date(Date.parse('2025-06-15T14:00:00Z') + minute * 60_000);
/** Recent enough that a suppression that expires (soft bounces: 30 days) has not yet. */
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

async function send(app: INestApplication, type: string, overrides: KeplarsPayloadOverrides): Promise<Record<string, unknown>> {
  const payload = buildKeplarsPayload(type, overrides);
  const response = await postKeplarsEvent(app, payload, { secret: TEST_SECRET });
  expect(response.status).toBe(200);
  return payload;
}

/** What the CRM was told (CrmSync's log lines). */
const crmLines = (logs: CapturedLogs) => logs.lines.filter((line) => line.context === 'CrmSync').map((line) => line.message);

describe.each(LOGIC_DATABASES.flatMap((database) => ADAPTERS.map((adapter) => [database, adapter] as const)))('on %s, %s', (database, adapter) => {
  let app: INestApplication;
  const logs = new CapturedLogs();
  beforeAll(async () => {
    app = await startSampleApp(onDatabase(database), logs, [], adapter);
  });
  afterAll(() => app.close());
  const http = () => request(app.getHttpServer());

  // One app for the file: each test uses addresses of its own, and this one runs first.
  it('GET /suppressions is an empty page before any bounce or complaint', async () => {
    await send(app, 'email.delivered', { recipient: 'fine@example.com' });
    expect(await get(app, '/suppressions')).toEqual({ status: 200, body: { items: [] } });
  });

  describe('from events', () => {
    it('lists hard bounces and complaints, most recent first, with the event that put each address there', async () => {
      const bounce = await send(app, 'email.bounced', { bounceType: 'hard', recipient: 'gone@example.com', timestamp: at(1) });
      const complaint = await send(app, 'email.complained', { recipient: 'angry@example.com', timestamp: at(2) });
      expect((await get(app, '/suppressions')).body).toEqual({
        items: [
          { address: 'angry@example.com', addressHash: expect.any(String), reason: 'complaint', since: at(2).toISOString(), eventId: complaint.id },
          { address: 'gone@example.com', addressHash: expect.any(String), reason: 'hard-bounce', since: at(1).toISOString(), eventId: bounce.id },
        ],
      });
    });

    it.each<[string, string, KeplarsPayloadOverrides]>([
      ['a single soft bounce', 'soft-once@example.com', { bounceType: 'soft' }],
      ['a bounce Keplars did not call hard or soft (event + data shape)', 'unsaid@example.com', { shape: 'event-data' }],
    ])('leaves out %s: it may not happen again', async (_, recipient, overrides) => {
      await send(app, 'email.bounced', { recipient, timestamp: daysAgo(1), ...overrides });
      expect((await get(app, `/suppressions/${recipient}`)).body).toMatchObject({ sendable: true, history: [] });
    });

    it('suppresses an address after 3 soft bounces within 7 days, for 30 days (the sample\'s policy)', async () => {
      for (const days of [6, 4, 2]) await send(app, 'email.bounced', { bounceType: 'soft', recipient: 'full@example.com', timestamp: daysAgo(days) });
      const { body } = await get(app, '/suppressions/full@example.com');
      expect(body).toMatchObject({ sendable: false, suppressed: { reason: 'soft-bounces' } });
      expect(Date.parse(body.suppressed.expiresAt) - Date.parse(body.suppressed.since)).toBe(30 * DAY);

      for (const days of [20, 12, 2]) await send(app, 'email.bounced', { bounceType: 'soft', recipient: 'sometimes-full@example.com', timestamp: daysAgo(days) });
      expect((await get(app, '/suppressions/sometimes-full@example.com')).body).toMatchObject({ sendable: true }); // 3, but not within a week
    });

    it('keeps one entry per address whatever its case, from the earliest event, whatever the arrival order', async () => {
      await send(app, 'email.complained', { id: 'evt_later', recipient: 'Ada@Example.com', timestamp: at(9) });
      await send(app, 'email.bounced', { id: 'evt_first', bounceType: 'hard', recipient: 'ada@example.com', timestamp: at(3) });
      await send(app, 'email.complained', { id: 'evt_latest', recipient: 'ADA@example.com', timestamp: at(12) });
      const ada = (await getAll(app, '/suppressions')).filter((suppression) => suppression.address === 'ada@example.com');
      expect(ada).toEqual([expect.objectContaining({ reason: 'hard-bounce', eventId: 'evt_first', since: at(3).toISOString() })]);
    });

    it('GET /suppressions pages with limit and cursor, and answers 400 for a cursor no page handed out', async () => {
      const all = await getAll(app, '/suppressions');
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect(await getAll(app, '/suppressions', 1)).toEqual(all);
      const { status, body } = await get(app, '/suppressions?cursor=bm90LWEtY3Vyc29y');
      expect(status).toBe(400);
      expect(body.message).toContain('is not a cursor of this list');
    });
  });

  describe('GET /suppressions/:address', () => {
    it('says the app may not email a suppressed address, why, and what happened to it', async () => {
      const bounce = await send(app, 'email.bounced', { emailId: 'em_to_nobody', bounceType: 'hard', recipient: 'nobody@example.com', timestamp: at(20) });
      expect((await get(app, '/suppressions/Nobody@Example.com')).body).toEqual({
        address: 'Nobody@Example.com',
        sendable: false,
        suppressed: { reason: 'hard-bounce', since: at(20).toISOString(), eventId: bounce.id },
        // A change is dated when it was recorded (the suppression itself, since the bounce).
        history: [{ at: expect.any(String), change: 'suppressed', address: 'nobody@example.com', reason: 'hard-bounce', eventId: bounce.id, emailId: 'em_to_nobody' }],
      });
      // One delivery, both views: the email's status and the list.
      expect((await get(app, '/emails/em_to_nobody')).body).toMatchObject({ status: 'bounced', final: true });
    });

    it('says the app may email an address it never heard a bounce of', async () => {
      expect((await get(app, '/suppressions/someone@example.com')).body).toEqual({ address: 'someone@example.com', sendable: true, history: [] });
    });

    it('answers 400 for something that is not an email address, saying what it expects', async () => {
      const { status, body } = await get(app, '/suppressions/not-an-address');
      expect(status).toBe(400);
      expect(body.message).toBe('"not-an-address" is not an email address: the suppression list keeps addresses such as ann@example.com.');
    });
  });

  describe('by hand', () => {
    it('POST /suppressions suppresses an address, recording who (x-actor) and why; a second POST changes nothing', async () => {
      const first = await http().post('/suppressions').set('x-actor', 'support@shop.example').send({ address: 'asked-by-phone@example.com', note: 'asked by phone, ticket 4711' });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ changed: true, address: 'asked-by-phone@example.com', sendable: false, suppressed: { reason: 'manual', actor: 'support@shop.example', note: 'asked by phone, ticket 4711' } });
      expect((await http().post('/suppressions').send({ address: 'asked-by-phone@example.com' })).body).toMatchObject({ changed: false, sendable: false });

      expect((await getAll(app, '/suppressions')).find((suppression) => suppression.address === 'asked-by-phone@example.com')).toMatchObject({ reason: 'manual', actor: 'support@shop.example' });
      expect(crmLines(logs).join('\n')).not.toContain('asked-by-phone@example.com'); // the app made that change itself
    });

    it('POST /suppressions with an expiry suppresses until then', async () => {
      const expiresAt = new Date(Date.now() + 7 * DAY).toISOString();
      const { body } = await http().post('/suppressions').send({ address: 'for-a-week@example.com', expiresAt });
      expect(body).toMatchObject({ sendable: false, suppressed: { reason: 'manual', actor: 'sample-admin', expiresAt } });
    });

    it.each([
      ['no address', {}, 'address must be a string'],
      ['an address that is not one', { address: 'nobody' }, '"nobody" is not an email address'],
      ['an expiry that is no date', { address: 'x@example.com', expiresAt: 'next week' }, 'expiresAt must be a valid ISO 8601 date string'],
    ])('POST /suppressions answers 400 for %s', async (_, body, message) => {
      const response = await http().post('/suppressions').send(body);
      expect(response.status).toBe(400);
      expect([response.body.message].flat().join('\n')).toContain(message);
    });

    it('DELETE /suppressions/:address reactivates it (204): the app may email it again, and its history says who and why', async () => {
      const bounce = await send(app, 'email.bounced', { bounceType: 'hard', recipient: 'back@example.com', timestamp: at(30) });
      const response = await http().delete('/suppressions/back@example.com?note=the%20mailbox%20exists%20again').set('x-actor', 'ops@shop.example');
      expect(response.status).toBe(204);
      expect(response.text).toBe('');

      const { body } = await get(app, '/suppressions/back@example.com');
      expect(body).toMatchObject({ sendable: true });
      expect(body.history).toEqual([
        expect.objectContaining({ change: 'suppressed', reason: 'hard-bounce', eventId: bounce.id }),
        expect.objectContaining({ change: 'reactivated', actor: 'ops@shop.example', note: 'the mailbox exists again' }),
      ]);
      expect((await getAll(app, '/suppressions')).map((suppression) => suppression.address)).not.toContain('back@example.com');
    });

    it('DELETE /suppressions/:address answers 404 for an address that is not suppressed, and 400 for one that is no address', async () => {
      const missing = await http().delete('/suppressions/never-suppressed@example.com');
      expect(missing.status).toBe(404);
      expect(missing.body.message).toBe('never-suppressed@example.com is not on the suppression list: there is nothing to reactivate.');
      expect((await http().delete('/suppressions/nobody')).status).toBe(400);
    });
  });

  describe('@OnAddressSuppressed() (the sample\'s CrmSync)', () => {
    it('is told once of each address an event suppressed, and not again when Keplars redelivers the event', async () => {
      const complaint = await send(app, 'email.complained', { emailId: 'em_spam', recipient: 'reported@example.com' });
      expect((await postKeplarsEvent(app, complaint, { secret: TEST_SECRET })).body).toEqual({ received: true, duplicate: true });
      await send(app, 'email.complained', { emailId: 'em_spam_again', recipient: 'reported@example.com' }); // already suppressed: no news
      expect(crmLines(logs).filter((line) => line.includes('reported@example.com'))).toEqual([
        `CRM: reported@example.com marked unreachable (complaint, after event ${complaint.id} of email em_spam)`,
      ]);
    });
  });
});
