import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsPayloadOverrides } from 'nestjs-keplars-webhook/testing';
import { LOGIC_DATABASES, get, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The suppression list: a second service taking the same bounce events as the email statuses. On the
// embedded PGlite and on Postgres.

const at = (minute: number) => new Date(Date.parse('2025-06-15T14:00:00Z') + minute * 60_000);

async function send(app: INestApplication, type: string, overrides: KeplarsPayloadOverrides): Promise<Record<string, unknown>> {
  const payload = buildKeplarsPayload(type, overrides);
  const response = await postKeplarsEvent(app, payload, { secret: TEST_SECRET });
  expect(response.status).toBe(200);
  return payload;
}

describe.each(LOGIC_DATABASES)('on %s', (database) => {
  describe('GET /suppressions', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = await startSampleApp(onDatabase(database));
    });
    afterEach(() => app.close());

    it('is empty before any bounce or complaint', async () => {
      await send(app, 'email.delivered', { recipient: 'fine@example.com' });
      expect(await get(app, '/suppressions')).toEqual({ status: 200, body: [] });
    });

    it('lists hard bounces and complaints, with the event that put each address there', async () => {
      const bounce = await send(app, 'email.bounced', { bounceType: 'hard', recipient: 'gone@example.com', timestamp: at(1) });
      const complaint = await send(app, 'email.complained', { recipient: 'angry@example.com', timestamp: at(2) });
      expect((await get(app, '/suppressions')).body).toEqual([
        { address: 'angry@example.com', reason: 'complaint', eventId: complaint.id, since: at(2).toISOString() },
        { address: 'gone@example.com', reason: 'hard-bounce', eventId: bounce.id, since: at(1).toISOString() },
      ]);
    });

    it.each([
      ['a soft bounce', { bounceType: 'soft' as const }],
      ['a bounce Keplars did not call hard or soft (event + data shape)', { shape: 'event-data' as const }],
    ])('leaves out %s: it may not happen again', async (_, overrides) => {
      await send(app, 'email.bounced', { recipient: 'full@example.com', ...overrides });
      expect((await get(app, '/suppressions')).body).toEqual([]);
    });

    it('keeps one entry per address whatever its case, from the earliest event, whatever the arrival order', async () => {
      await send(app, 'email.complained', { id: 'evt_later', recipient: 'Ada@Example.com', timestamp: at(9) });
      await send(app, 'email.bounced', { id: 'evt_first', bounceType: 'hard', recipient: 'ada@example.com', timestamp: at(3) });
      await send(app, 'email.complained', { id: 'evt_latest', recipient: 'ADA@example.com', timestamp: at(12) });
      expect((await get(app, '/suppressions')).body).toEqual([
        { address: 'ada@example.com', reason: 'hard-bounce', eventId: 'evt_first', since: at(3).toISOString() },
      ]);
    });

    it('gets the same bounce as the email statuses: one delivery, both services', async () => {
      await send(app, 'email.bounced', { emailId: 'em_both', bounceType: 'hard', recipient: 'nobody@example.com' });
      expect((await get(app, '/emails/em_both')).body).toMatchObject({ status: 'bounced', final: true });
      expect((await get(app, '/suppressions')).body).toMatchObject([{ address: 'nobody@example.com', reason: 'hard-bounce' }]);
    });
  });
});
