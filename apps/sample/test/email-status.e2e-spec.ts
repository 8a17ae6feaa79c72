import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsPayloadOverrides } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { seededRandom } from '../../../test/support/seeded-random.js';
import { LOGIC_DATABASES, get, keptDatabase, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The sample's email statuses, over HTTP, under what Keplars really does: retries, duplicates and
// events out of order must all end in the same stored state. On the embedded PGlite and on Postgres.

const T0 = Date.parse('2025-06-15T14:00:00Z');

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

async function storedState(app: INestApplication): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
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

describe.each(LOGIC_DATABASES)('on %s', (database) => {
  describe('GET /emails/:emailId after the scripted events, delivered in order', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startSampleApp(onDatabase(database));
      await deliver(app, SCRIPT);
    });
    afterAll(() => app.close());

    it('gives each email the furthest status it reached', async () => {
      const statuses = Object.fromEntries(
        await Promise.all(EMAIL_IDS.map(async (emailId) => [emailId, (await get(app, `/emails/${emailId}`)).body.status])),
      );
      expect(statuses).toEqual({
        em_clicked: 'clicked',
        em_bounced: 'bounced',
        em_complained: 'complained',
        em_cancelled: 'cancelled',
        em_failed: 'failed',
      });
    });

    it('answers the status, whether it is final, and the history in the order things happened', async () => {
      const { status, body } = await get(app, '/emails/em_clicked');
      expect(status).toBe(200);
      expect(body).toEqual({
        emailId: 'em_clicked',
        status: 'clicked',
        final: false,
        recipient: 'em_clicked@example.com',
        subject: 'Subject of em_clicked',
        history: [
          { id: 'evt_em_clicked_0', type: 'email.queued', occurredAt: '2025-06-15T14:00:00.000Z' },
          { id: 'evt_em_clicked_1', type: 'email.sent', occurredAt: '2025-06-15T14:01:00.000Z' },
          { id: 'evt_em_clicked_2', type: 'email.delivered', occurredAt: '2025-06-15T14:02:00.000Z' },
          { id: 'evt_em_clicked_5', type: 'email.opened', occurredAt: '2025-06-15T14:05:00.000Z' },
          { id: 'evt_em_clicked_6', type: 'email.clicked', occurredAt: '2025-06-15T14:06:00.000Z', url: 'https://example.com/pricing' },
          { id: 'evt_em_clicked_30', type: 'email.opened', occurredAt: '2025-06-15T14:30:00.000Z' },
        ],
      });
    });

    it("keeps each type's own details in the history", async () => {
      expect((await get(app, '/emails/em_bounced')).body).toMatchObject({
        final: true,
        history: [{}, {}, { type: 'email.bounced', bounceType: 'hard', bounceReason: 'Mailbox does not exist' }],
      });
      expect((await get(app, '/emails/em_failed')).body.history.at(-1)).toMatchObject({ type: 'email.failed', failureReason: 'SMTP 554: message rejected' });
    });

    it('stores events without a Keplars id (flat and event-data shapes) under the id the module derives', async () => {
      const { body } = await get(app, '/emails/em_complained');
      expect(body.history.map((entry: { type: string }) => entry.type)).toEqual(['email.sent', 'email.delivered', 'email.opened', 'email.complained']);
      expect(body.history.every((entry: { id: string }) => entry.id.startsWith('kpl_'))).toBe(true);
    });

    it('answers 404 with a message that names the email for an email it has heard nothing about', async () => {
      const { status, body } = await get(app, '/emails/em_never_sent');
      expect(status).toBe(404);
      expect(body).toMatchObject({ statusCode: 404, message: expect.stringContaining('No Keplars event has been received for email "em_never_sent"') });
    });
  });

  describe('the same events shuffled and duplicated end in the same stored state', () => {
    let expected: Record<string, unknown>;
    beforeAll(async () => {
      const app = await startSampleApp(onDatabase(database));
      await deliver(app, SCRIPT);
      expected = await storedState(app);
      await app.close();
    });

    it.each([1, 2, 3, 20240615])('seed %i', async (seed) => {
      const app = await startSampleApp(onDatabase(database));
      try {
        await deliver(app, shuffledWithDuplicates(seed));
        expect(await storedState(app)).toEqual(expected);
      } finally {
        await app.close();
      }
    });
  });

  describe('an email never moves backwards', () => {
    it.each([
      ['an opened before its delivered leaves it opened', ['opened', 'delivered'], 'opened'],
      ['a delivered after a hard bounce leaves it bounced', ['bounced', 'delivered'], 'bounced'],
      ['a click after a complaint leaves it complained', ['complained', 'clicked'], 'complained'],
      ['a sent after a cancellation leaves it cancelled', ['cancelled', 'sent'], 'cancelled'],
      ['a queued after a failure leaves it failed', ['failed', 'queued'], 'failed'],
    ])('%s', async (_, arrivals, status) => {
      const app = await startSampleApp(onDatabase(database));
      try {
        // Arrival order as listed; timestamps as they really happened (the second one first).
        await deliver(app, arrivals.map((type, i) => event(`email.${type}`, 'em_late', arrivals.length - i)));
        const { body } = await get(app, '/emails/em_late');
        expect(body.status).toBe(status);
        expect(body.history.map((entry: { type: string }) => entry.type)).toEqual(arrivals.map((type) => `email.${type}`).reverse());
      } finally {
        await app.close();
      }
    });
  });

  describe('a redelivery after a restart', () => {
    it('is a duplicate: the marks are kept in the database with the statuses, and nothing changes', async () => {
      const env = keptDatabase(database); // on PGlite, a data folder that does not exist yet: it is created at startup
      const before = await startSampleApp(env);
      await deliver(before, SCRIPT);
      const expected = await storedState(before);
      await before.close();

      const after = await startSampleApp(env);
      try {
        for (const payload of SCRIPT) {
          const response = await postKeplarsEvent(after, payload, { secret: TEST_SECRET });
          expect(response.body).toEqual({ received: true, duplicate: true });
        }
        expect(await storedState(after)).toEqual(expected);
      } finally {
        await after.close();
      }
    });
  });

  describe('an event that names no email', () => {
    it('is accepted (a retry would not name one either) and logged as ignored', async () => {
      const logs = new CapturedLogs();
      const app = await startSampleApp(onDatabase(database), logs);
      try {
        const payload = buildKeplarsPayload('email.opened', { id: 'evt_no_email', extra: { email_id: undefined } });
        expect(JSON.stringify(payload)).not.toContain('email_id');
        expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).body).toEqual({ received: true });
        expect(logs.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContainEqual(
          expect.stringContaining('Ignored email.opened evt_no_email: the payload names no email (no email_id), so there is no email to update.'),
        );
      } finally {
        await app.close();
      }
    });
  });
});
