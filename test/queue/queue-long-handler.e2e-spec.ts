import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsWebhookModule, RedisIdempotencyStore } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { GatedHandler } from '../support/gated-handler.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// Issue 12 (issue 10's hold, in queue mode): a worker's handler that outlives deduplication.lockSeconds
// keeps its event held, because the worker's delivery renews the store's lock while the handler runs.
// Without the renewal the lock lapses after lockSeconds, and a retry of the job (BullMQ's, after the
// worker answered "failed" at the deadline) or another worker could start the handler a second time.
const SECRET = 'whsec_queue_long';
const LOCK_SECONDS = 1;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ADAPTERS)('queue mode on %s: a handler that outlives lockSeconds', (adapter: AdapterName) => {
  const prefix = uniqueKeyPrefix(`queue-long-${adapter}`).slice(0, -1);
  const dedupPrefix = `${prefix}:dedup:`;
  let redis: Redis;
  let app: INestApplication;
  let probe: RedisIdempotencyStore;
  const gated = new GatedHandler();

  beforeAll(async () => {
    redis = connectRedis();
    probe = new RedisIdempotencyStore(redis, { keyPrefix: dedupPrefix });
    app = await createWebhookApp({
      adapter,
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { redis: REDIS_URL, prefix, backoff: { delaySeconds: 0.05, jitter: 0 }, stalledSeconds: 10 },
          deduplication: { lockSeconds: LOCK_SECONDS, store: { redis: REDIS_URL, keyPrefix: dedupPrefix } },
        }),
      ],
      providers: [{ provide: GatedHandler, useValue: gated }],
    });
  });
  afterAll(async () => {
    gated.open();
    await app.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('keeps the event held while the handler runs (a claim gets "busy" past lockSeconds), and runs the handler once', async () => {
    const payload = buildKeplarsPayload('email.sent');
    const id = String(payload.id);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    await waitFor(() => gated.started.get(id) === 1, 'the worker to start the handler');

    const claims: string[] = [];
    for (const wait of [1_300, 500, 500]) {
      await pause(wait); // 1.3 s, 1.8 s and 2.3 s after the handler started
      // Past lockSeconds: without renewal the lock has lapsed, and this claim would take the event.
      const claim = await probe.claim(id, 5_000);
      claims.push(claim.state);
    }
    expect(claims).toEqual(['busy', 'busy', 'busy']);
    expect(gated.started.get(id)).toBe(1); // BullMQ's retry meanwhile found it held too

    gated.open();
    await waitFor(() => gated.finished.get(id) === 1, 'the handler to finish');
    await waitFor(async () => (await probe.claim(id, 1_000)).state === 'done', 'the event to be marked handled');
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).body).toEqual({ received: true, duplicate: true });
    await pause(300);
    expect([gated.started.get(id), gated.finished.get(id)]).toEqual([1, 1]);
  }, 20_000);
});
