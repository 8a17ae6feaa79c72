import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { GatedHandler } from './support/gated-handler.js';
import { deduplicationStores } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';

// Issue 10, point 3: a handler that outlives lockSeconds must not run again while it still runs. The
// delivery answers 500 at the deadline (Keplars retries), but keeps its hold on the event, renewing it,
// until every handler has settled; retries meanwhile get 409. Then the late success is recorded.
const SECRET = 'whsec_long_handlers';
const LOCK_SECONDS = 0.6;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTERS.flatMap((adapter) => deduplicationStores('long-handlers').map(([name, store, cleanup]) => [adapter, name, store, cleanup] as const)))(
  'a handler that outlives lockSeconds, on %s with the %s',
  (adapter: AdapterName, storeName, store, cleanup) => {
    // The memory store serves one instance; the Redis store is shared by two, which take turns.
    const instances = storeName === 'Redis store' ? 2 : 1;
    const gated = new GatedHandler();
    let apps: INestApplication[];
    const deliver = (attempt: number, payload: object) => postKeplarsEvent(apps[attempt % apps.length]!, payload, { secret: SECRET });

    beforeAll(async () => {
      apps = await Promise.all(
        Array.from({ length: instances }, () =>
          createWebhookApp({
            adapter,
            imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: store(), lockSeconds: LOCK_SECONDS } })],
            providers: [{ provide: GatedHandler, useValue: gated }],
          }),
        ),
      );
    });
    afterAll(async () => {
      gated.open();
      await Promise.all(apps.map((app) => app.close()));
      await cleanup();
    });

    it('runs once: 500 at the deadline, 409 to retries while it still runs, then duplicate once it succeeded', async () => {
      const payload = buildKeplarsPayload('email.sent');
      const id = String(payload.id);

      expect((await deliver(0, payload)).status).toBe(500);
      const retries: number[] = [];
      // Retries over three lock periods: each would have taken the event over once its lock lapsed.
      for (let attempt = 1; attempt <= 9; attempt++) {
        retries.push((await deliver(attempt, payload)).status);
        await pause((LOCK_SECONDS * 1000) / 3);
      }
      expect(retries).toEqual(Array(9).fill(409));
      expect(gated.started.get(id)).toBe(1);

      gated.open();
      let answer;
      for (let attempt = 0; attempt < 50; attempt++) {
        answer = await deliver(attempt, payload);
        if (answer.status !== 409) break;
        await pause(20);
      }
      expect(answer!.body).toEqual({ received: true, duplicate: true });
      expect(gated.started.get(id)).toBe(1);
      expect(gated.finished.get(id)).toBe(1);
    }, 20_000);
  },
);
