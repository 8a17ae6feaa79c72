import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CountingHandlers } from './support/counting-handlers.js';
import { deduplicationStores } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';

// Issue 10, point 1: a payload without an id gets a `kpl_…` id derived from its content. Content alone
// cannot tell Keplars' retry from a genuine repeat (a second open, a second click), so derived ids are
// deduplicated only within their own short window; events with Keplars' id keep the long one.
const SECRET = 'whsec_derived';
// A tiny window, so the test waits a fraction of a second instead of the default's minutes.
const DERIVED_WINDOW_SECONDS = 0.4;
const past = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 150));

describe.each(ADAPTERS.flatMap((adapter) => deduplicationStores('derived-ids').map(([name, store, cleanup]) => [adapter, name, store, cleanup] as const)))(
  'content-derived ids on %s with the %s',
  (adapter: AdapterName, _storeName, store, cleanup) => {
    let app: INestApplication;
    const deliver = (payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });
    const runs = (id: string) => app.get(CountingHandlers).audit.get(id) ?? 0;
    const idOf = () => [...app.get(CountingHandlers).audit.keys()].at(-1)!;

    beforeAll(async () => {
      app = await createWebhookApp({
        adapter,
        imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: store(), derivedIdWindowSeconds: DERIVED_WINDOW_SECONDS } })],
        providers: [CountingHandlers],
      });
    });
    afterAll(async () => {
      await app.close();
      await cleanup();
    });

    it.each(['event-data', 'flat'] as const)('a retry of a %s event within derivedIdWindowSeconds is a duplicate', async (shape) => {
      const payload = buildKeplarsPayload('email.opened', { shape });
      expect((await deliver(payload)).body).toEqual({ received: true });
      const id = idOf();
      expect(id).toMatch(/^kpl_/);
      expect((await deliver(payload)).body).toEqual({ received: true, duplicate: true });
      expect(runs(id)).toBe(1);
    });

    it.each(['event-data', 'flat'] as const)('a genuine repeat of a %s event after derivedIdWindowSeconds is handled again', async (shape) => {
      // A second open of the same email, in the same second: the same bytes as the first.
      const payload = buildKeplarsPayload('email.opened', { shape, timestamp: '2026-12-03T10:00:00Z' });
      expect((await deliver(payload)).body).toEqual({ received: true });
      const id = idOf();
      await past(DERIVED_WINDOW_SECONDS);
      expect((await deliver(payload)).body).toEqual({ received: true });
      expect(runs(id)).toBe(2);
    });

    it('an event carrying Keplars\' own id keeps the long window', async () => {
      const payload = buildKeplarsPayload('email.opened', { shape: 'envelope' });
      expect((await deliver(payload)).body).toEqual({ received: true });
      await past(DERIVED_WINDOW_SECONDS);
      expect((await deliver(payload)).body).toEqual({ received: true, duplicate: true });
      expect(runs(String(payload.id))).toBe(1);
    });
  },
);
