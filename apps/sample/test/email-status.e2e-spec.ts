import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsPayloadOverrides } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { seededRandom } from '../../../test/support/seeded-random.js';
import { ADAPTERS } from '../../../test/support/webhook-app.js';
import { LOGIC_DATABASES, get, getAll, keptDatabase, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// GET /emails and GET /emails/:emailId, over HTTP on Express and Fastify, under what Keplars really
// does: retries, duplicates and events out of order all end in the same answers.

const T0 = Date.parse('2025-06-15T14:00:00Z');
const iso = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

/** One event of the script: `minute` after T0, with a fixed id (or, in the id-less shapes, fixed content). */
function event(type: string, emailId: string, minute: number, overrides: KeplarsPayloadOverrides = {}): Record<string, unknown> {
  const shape = overrides.shape ?? 'envelope';
  return buildKeplarsPayload(type, {
    ...(shape === 'envelope' ? { id: `evt_${emailId}_${minute}` } : {}),
    emailId,
    recipient: `${emailId}@example.com`,
    subject: `Subject of ${emailId}`,
    timestamp: new Date(T0 + minute * 60_000),
    ...overrides,
  });
}

/** Five emails' lives, in the order things happened, in all three wire shapes. */
const SCRIPT = [
  event('email.queued', 'em_clicked', 0),
  event('email.sent', 'em_clicked', 1),
  event('email.delivered', 'em_clicked', 2),
  event('email.opened', 'em_clicked', 5),
  event('email.clicked', 'em_clicked', 6, { url: 'https://example.com/pricing' }),
  event('email.opened', 'em_clicked', 30), // opened again later: still clicked

  event('email.queued', 'em_bounced', 0),
  event('email.sent', 'em_bounced', 1),
  event('email.bounced', 'em_bounced', 2, { bounceType: 'hard', bounceReason: 'Mailbox does not exist' }),

  event('email.sent', 'em_complained', 0, { shape: 'flat' }),
  event('email.delivered', 'em_complained', 1, { shape: 'flat' }),
  event('email.opened', 'em_complained', 3, { shape: 'flat' }),
  event('email.complained', 'em_complained', 4, { shape: 'flat' }),

  event('email.scheduled', 'em_cancelled', 0),
  event('email.cancelled', 'em_cancelled', 5),

  event('email.queued', 'em_failed', 0, { shape: 'event-data' }),
  event('email.failed', 'em_failed', 1, { shape: 'event-data', failureReason: 'SMTP 554: message rejected' }),
];
const EMAIL_IDS = ['em_clicked', 'em_bounced', 'em_complained', 'em_cancelled', 'em_failed'];

async function deliver(app: INestApplication, payloads: readonly Record<string, unknown>[]): Promise<void> {
  for (const payload of payloads) {
    const response = await postKeplarsEvent(app, payload, { secret: TEST_SECRET });
    expect(response.status).toBe(200);
  }
}

/** What the endpoints answer about the script's emails: the list, and each email with its timeline. */
async function answers(app: INestApplication): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = { list: await getAll(app, '/emails') };
  for (const emailId of EMAIL_IDS) {
    const response = await get(app, `/emails/${emailId}`);
    expect(response.status).toBe(200);
    state[emailId] = response.body;
  }
  return state;
}

/** The script with each event delivered one to three times, shuffled (Fisher-Yates, seeded: a failure replays). */
function shuffledWithDuplicates(seed: number): Record<string, unknown>[] {
  const random = seededRandom(seed);
  const deliveries = SCRIPT.flatMap((payload) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => payload));
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  return deliveries;
}

describe.each(LOGIC_DATABASES.flatMap((database) => ADAPTERS.map((adapter) => [database, adapter] as const)))('on %s, %s', (database, adapter) => {
  const start = (env: Record<string, string> = onDatabase(database), logs?: CapturedLogs) => startSampleApp(env, logs, [], adapter);

  describe('after the scripted events, delivered in order', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await start();
      await deliver(app, SCRIPT);
    });
    afterAll(() => app.close());

    it('GET /emails/:emailId gives each email the furthest status it reached', async () => {
      const statuses = Object.fromEntries(await Promise.all(EMAIL_IDS.map(async (emailId) => [emailId, (await get(app, `/emails/${emailId}`)).body.status])));
      expect(statuses).toEqual({ em_clicked: 'clicked', em_bounced: 'bounced', em_complained: 'complained', em_cancelled: 'cancelled', em_failed: 'failed' });
    });

    it('GET /emails/:emailId answers the email as the ledger keeps it: status, engagement, and the timeline in the order things happened', async () => {
      const { status, body } = await get(app, '/emails/em_clicked');
      expect(status).toBe(200);
      expect(body).toEqual({
        endpoint: 'default',
        emailId: 'em_clicked',
        status: 'clicked',
        final: false,
        recipient: 'em_clicked@example.com',
        subject: 'Subject of em_clicked',
        opens: { count: 2, first: iso(5), last: iso(30) },
        clicks: { count: 1, first: iso(6), last: iso(6) },
        events: 6,
        firstEventAt: iso(0),
        lastEventAt: iso(30),
        timeline: [
          { eventId: 'evt_em_clicked_0', type: 'email.queued', occurredAt: iso(0) },
          { eventId: 'evt_em_clicked_1', type: 'email.sent', occurredAt: iso(1) },
          { eventId: 'evt_em_clicked_2', type: 'email.delivered', occurredAt: iso(2) },
          { eventId: 'evt_em_clicked_5', type: 'email.opened', occurredAt: iso(5) },
          { eventId: 'evt_em_clicked_6', type: 'email.clicked', occurredAt: iso(6), url: 'https://example.com/pricing' },
          { eventId: 'evt_em_clicked_30', type: 'email.opened', occurredAt: iso(30) },
        ],
      });
    });

    it("keeps each type's own details on the timeline", async () => {
      expect((await get(app, '/emails/em_bounced')).body).toMatchObject({
        final: true,
        timeline: [{}, {}, { type: 'email.bounced', bounceType: 'hard', bounceReason: 'Mailbox does not exist' }],
      });
      expect((await get(app, '/emails/em_failed')).body.timeline.at(-1)).toMatchObject({ type: 'email.failed', failureReason: 'SMTP 554: message rejected' });
    });

    it('keeps events without a Keplars id (flat and event-data shapes) under the id the module derives', async () => {
      const { body } = await get(app, '/emails/em_complained');
      expect(body.timeline.map((entry: { type: string }) => entry.type)).toEqual(['email.sent', 'email.delivered', 'email.opened', 'email.complained']);
      expect(body.timeline.every((entry: { eventId: string }) => entry.eventId.startsWith('kpl_'))).toBe(true);
    });

    it('GET /emails/:emailId answers 404 with a message that names the email for an email it has heard nothing about', async () => {
      const { status, body } = await get(app, '/emails/em_never_sent');
      expect(status).toBe(404);
      expect(body).toMatchObject({ statusCode: 404, message: expect.stringContaining('No Keplars event has been received for email "em_never_sent"') });
    });

    it('GET /emails lists the emails, the most recently started first (all five started at minute 0: then by id), a page at a time', async () => {
      const first = await get(app, '/emails?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.items.map((email: { emailId: string }) => email.emailId)).toEqual(['em_bounced', 'em_cancelled']);
      expect(first.body.items[0]).toMatchObject({ status: 'bounced', firstEventAt: iso(0), lastEventAt: iso(2) });
      expect(first.body.items[0]).not.toHaveProperty('timeline');

      const second = await get(app, `/emails?limit=2&cursor=${encodeURIComponent(first.body.next)}`);
      expect(second.body.items.map((email: { emailId: string }) => email.emailId)).toEqual(['em_clicked', 'em_complained']);
      const last = await get(app, `/emails?limit=2&cursor=${encodeURIComponent(second.body.next)}`);
      expect(last.body).toEqual({ items: [expect.objectContaining({ emailId: 'em_failed' })] });
      expect((await get(app, '/emails')).body.items).toHaveLength(5); // 50 a page unless told
    });

    it.each([
      ['a cursor no page handed out', '?cursor=not-a-cursor', 'is not a cursor of this list'],
      ['a limit of 0', '?limit=0', 'limit must not be less than 1'],
      ['a limit over 500', '?limit=501', 'limit must not be greater than 500'],
      ['a limit that is no number', '?limit=ten', 'limit must be an integer number'],
    ])('GET /emails answers 400 for %s, saying what is wrong', async (_, query, message) => {
      const { status, body } = await get(app, `/emails${query}`);
      expect(status).toBe(400);
      expect([body.message].flat().join('\n')).toContain(message);
    });
  });

  describe('the same events shuffled and duplicated get the same answers', () => {
    let expected: Record<string, unknown>;
    beforeAll(async () => {
      const app = await start();
      await deliver(app, SCRIPT);
      expected = await answers(app);
      await app.close();
    });

    it.each([1, 20240615])('seed %i', async (seed) => {
      const app = await start();
      try {
        await deliver(app, shuffledWithDuplicates(seed));
        expect(await answers(app)).toEqual(expected);
      } finally {
        await app.close();
      }
    });
  });

  it('never moves an email backwards, whatever order its events arrive in', async () => {
    const cases = [
      ['em_late_open', ['opened', 'delivered'], 'opened'],
      ['em_late_delivery', ['bounced', 'delivered'], 'bounced'],
      ['em_late_click', ['complained', 'clicked'], 'complained'],
      ['em_late_send', ['cancelled', 'sent'], 'cancelled'],
      ['em_late_queue', ['failed', 'queued'], 'failed'],
    ] as const;
    const app = await start();
    try {
      for (const [emailId, arrivals] of cases) {
        // Arrival order as listed; timestamps as they really happened (the second one first).
        await deliver(app, arrivals.map((type, i) => event(`email.${type}`, emailId, arrivals.length - i)));
      }
      for (const [emailId, arrivals, status] of cases) {
        const { body } = await get(app, `/emails/${emailId}`);
        expect({ emailId, status: body.status, timeline: body.timeline.map((entry: { type: string }) => entry.type) }).toEqual({
          emailId,
          status,
          timeline: arrivals.map((type) => `email.${type}`).reverse(),
        });
      }
    } finally {
      await app.close();
    }
  });

  it('counts a redelivery after a restart as a duplicate: the marks are kept with the ledger, and nothing changes', async () => {
    const env = keptDatabase(database); // on PGlite, a data folder that does not exist yet: it is created at startup
    const before = await start(env);
    await deliver(before, SCRIPT);
    const expected = await answers(before);
    await before.close();

    const after = await start(env);
    try {
      for (const payload of SCRIPT) {
        const response = await postKeplarsEvent(after, payload, { secret: TEST_SECRET });
        expect(response.body).toEqual({ received: true, duplicate: true });
      }
      expect(await answers(after)).toEqual(expected);
    } finally {
      await after.close();
    }
  });

  it('accepts an event that names no email (a retry would not name one either), and logs why it is on no timeline', async () => {
    const logs = new CapturedLogs();
    const app = await start(onDatabase(database), logs);
    try {
      const payload = buildKeplarsPayload('email.opened', { id: 'evt_no_email', extra: { email_id: undefined } });
      expect(JSON.stringify(payload)).not.toContain('email_id');
      expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).body).toEqual({ received: true });
      expect(logs.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContainEqual(expect.stringContaining('email.opened evt_no_email names no email (no email_id)'));
      expect((await get(app, '/emails')).body).toEqual({ items: [] });
    } finally {
      await app.close();
    }
  });
});
