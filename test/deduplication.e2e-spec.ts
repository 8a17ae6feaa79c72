import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsWebhookModule, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsDeliveryResponse } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { CountingHandlers, totalRuns } from './support/counting-handlers.js';
import { DOWNSTREAM_LEDGER, DownstreamLedger, FlakyHandler } from './support/flaky-handler.js';
import { connectRedis, deleteKeys, OwnRedisServer, REDIS_URL, uniqueKeyPrefix } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';
import { dropSchemas, POSTGRES_URL, PostgresProxy, uniqueSchema } from './support/postgres.js';

// SPEC §4: retries, concurrent duplicates and several instances; and the §3 rows on deduplication.
const SECRET = 'whsec_dedup';

const deliver = (app: INestApplication, payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });

/** Delivers like Keplars: again and again until the answer is 2xx. */
async function deliverUntilAccepted(apps: readonly INestApplication[], payload: object, attempts = 50): Promise<KeplarsDeliveryResponse[]> {
  const responses: KeplarsDeliveryResponse[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const response = await deliver(apps[attempt % apps.length]!, payload);
    responses.push(response);
    if (response.status < 300) return responses;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`still not accepted after ${attempts} deliveries: ${responses.map((r) => r.status).join(',')}`);
}

/** Many events, each delivered several times at once, spread over the apps; then retried to 2xx. */
async function duplicateStorm(apps: readonly INestApplication[], events = 30, copies = 6) {
  const payloads = Array.from({ length: events }, (_, i) => buildKeplarsPayload(i % 2 ? 'email.opened' : 'email.delivered'));
  const first = await Promise.all(payloads.flatMap((payload, i) => Array.from({ length: copies }, (_, c) => deliver(apps[(i + c) % apps.length]!, payload))));
  await Promise.all(payloads.map((payload) => deliverUntilAccepted(apps, payload)));
  return { ids: payloads.map((payload) => String(payload.id)), statuses: new Set(first.map((response) => response.status)) };
}

function stores(): [string, () => KeplarsWebhookOptions['deduplication'], () => Promise<void>][] {
  const prefix = uniqueKeyPrefix('dedup-e2e');
  let redis: Redis | undefined;
  return [
    ['memory store', () => ({ store: 'memory' }), async () => undefined],
    [
      'Redis store',
      () => {
        redis ??= connectRedis();
        return { store: { redis: REDIS_URL, keyPrefix: prefix } };
      },
      async () => {
        if (redis) await deleteKeys(redis, prefix);
        await redis?.quit();
      },
    ],
    (() => {
      const schema = uniqueSchema('dedup_e2e');
      return ['Postgres store', () => ({ store: { postgres: POSTGRES_URL, schema } }), () => dropSchemas(schema)] as [string, () => KeplarsWebhookOptions['deduplication'], () => Promise<void>];
    })(),
  ];
}

describe.each(ADAPTERS.flatMap((adapter) => stores().map(([name, dedup, cleanup]) => [adapter, name, dedup, cleanup] as const)))(
  'on %s with the %s',
  (adapter: AdapterName, storeName, deduplication, cleanup) => {
    // The memory store serves one instance; the Redis and Postgres stores are shared by two.
    const instances = storeName === 'memory store' ? 1 : 2;
    let apps: INestApplication[];
    const downstream = new DownstreamLedger();
    const counters = () => apps.map((app) => app.get(CountingHandlers));

    beforeAll(async () => {
      apps = await Promise.all(
        Array.from({ length: instances }, () =>
          createWebhookApp({
            adapter,
            imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: deduplication() })],
            providers: [CountingHandlers, FlakyHandler, { provide: DOWNSTREAM_LEDGER, useValue: downstream }],
          }),
        ),
      );
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      await cleanup();
    });

    it(`a storm of concurrent duplicates over ${instances} instance(s) runs every handler exactly once per event`, async () => {
      const { ids, statuses } = await duplicateStorm(apps);
      const audit = totalRuns(counters().map((counter) => counter.audit));
      const analytics = totalRuns(counters().map((counter) => counter.analytics));
      for (const id of ids) {
        expect(audit.get(id)).toBe(1);
        expect(analytics.get(id)).toBe(1);
      }
      // Duplicates that overlapped a running delivery were answered 409, and Keplars retried them.
      expect([...statuses].sort()).toEqual([200, 409]);
    });

    it('a handler failing its first two deliveries succeeds once on the third; its neighbour ran once in all', async () => {
      const payload = buildKeplarsPayload('email.delivered', { metadata: { fail: 2 } });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await deliver(apps[i % apps.length]!, payload)).status);
      expect(statuses).toEqual([500, 500, 200]);

      const id = String(payload.id);
      expect(downstream.successes.get(id)).toBe(1);
      expect(downstream.attempts.get(id)).toBe(3);
      expect(totalRuns(counters().map((counter) => counter.audit)).get(id)).toBe(1);
      expect(totalRuns(counters().map((counter) => counter.analytics)).get(id)).toBe(1);

      const again = await deliver(apps[0]!, payload);
      expect(again.body).toEqual({ received: true, duplicate: true });
    });
  },
);

describe.each(ADAPTERS)('a Redis store that goes down and comes back, on %s', (adapter) => {
  let server: OwnRedisServer;
  let app: INestApplication;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { redis: server.url, operationTimeoutMs: 500 } } })],
      providers: [CountingHandlers],
      logger: logs,
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('answers 503 without running a handler while Redis is down, and handles the next delivery once it is back', async () => {
    const counter = app.get(CountingHandlers);
    expect((await deliver(app, buildKeplarsPayload('email.opened'))).status).toBe(200);

    await server.stop();
    const payload = buildKeplarsPayload('email.opened');
    const mark = logs.mark();
    const started = Date.now();
    const down = await deliver(app, payload);
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(counter.audit.has(String(payload.id))).toBe(false);
    expect(logs.since(mark, 'error').map((line) => line.message).join('\n')).toMatch(/Answered 503 to email\.opened .* deduplication store is unreachable/);

    await server.start();
    const responses = await deliverUntilAccepted([app], payload, 100);
    expect(responses.at(-1)!.status).toBe(200);
    expect(new Set(responses.slice(0, -1).map((response) => response.status))).toEqual(new Set(responses.length > 1 ? [503] : []));
    expect(counter.audit.get(String(payload.id))).toBe(1);
  });
});

describe.each(ADAPTERS)('a Redis store unreachable from the start, on %s', (adapter) => {
  it('still starts, logs why, and answers 503 (fail closed, Keplars retries)', async () => {
    const logs = new CapturedLogs();
    const app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { redis: 'redis://:hunter2@127.0.0.1:1' } } })],
      providers: [CountingHandlers],
      logger: logs,
    });
    const response = await deliver(app, buildKeplarsPayload('email.opened'));
    expect(response.status).toBe(503);
    expect(app.get(CountingHandlers).audit.size).toBe(0);
    expect(logs.text()).toMatch(/Answered 503 .*Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is unreachable/);
    expect(logs.text()).not.toContain('hunter2');
    await app.close();
  });
});

describe.each(ADAPTERS)('a Postgres store that goes down and comes back, on %s', (adapter) => {
  const schema = uniqueSchema('dedup_outage');
  let proxy: PostgresProxy;
  let app: INestApplication;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    proxy = await PostgresProxy.start();
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { postgres: proxy.url, schema, operationTimeoutMs: 500 } } })],
      providers: [CountingHandlers],
      logger: logs,
    });
  });
  afterAll(async () => {
    await app.close();
    await proxy.stop();
    await dropSchemas(schema);
  });

  it('answers 503 without running a handler while Postgres is down; afterwards nothing is lost and nothing ran twice', async () => {
    const counter = app.get(CountingHandlers);
    const before = Array.from({ length: 10 }, () => buildKeplarsPayload('email.opened'));
    for (const payload of before) expect((await deliver(app, payload)).status).toBe(200);

    await proxy.cut();
    const during = Array.from({ length: 10 }, () => buildKeplarsPayload('email.opened'));
    const mark = logs.mark();
    for (const payload of [...during, ...before]) {
      const started = Date.now();
      const response = await deliver(app, payload);
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_500);
    }
    expect(during.some((payload) => counter.audit.has(String(payload.id)))).toBe(false);
    expect(logs.since(mark, 'error').map((line) => line.message).join('\n')).toMatch(/Answered 503 to email\.opened .* deduplication store is unreachable/);

    await proxy.restore();
    for (const payload of [...during, ...before]) await deliverUntilAccepted([app], payload, 100);
    for (const payload of [...before, ...during]) {
      expect(counter.audit.get(String(payload.id))).toBe(1);
      expect(counter.analytics.get(String(payload.id))).toBe(1);
    }
  });
});
