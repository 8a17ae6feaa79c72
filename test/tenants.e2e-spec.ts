import { Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsDeliveryResponse } from 'nestjs-keplars-webhook/testing';
import type { AddressInfo } from 'node:net';
import { runKeplarsSend } from '../libs/keplars-webhook/src/cli/run-keplars-send.js';
import { RefusalLog } from '../libs/keplars-webhook/src/nest/log/refusal-log.js';
import { runBounded } from './robustness/support/bounded-pool.js';
import { CapturedLogs } from './support/captured-logs.js';
import { OwnRedisServer } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';

// SPEC §7, tenants per request: one route, a tenant in its path, each tenant's secret looked up in
// the app's own store (here a real Redis server of the test's own, so it can go down), cached.
const TENANTS = 1000;
const tenantName = (i: number) => `tenant_${String(i).padStart(4, '0')}`;
const secretOf = (i: number, version = 1) => `whsec_${tenantName(i)}_v${version}`;
const SECRETS_KEY = 'tenant-secrets';
/** A lookup as slow as a vault's: concurrent requests for one tenant overlap while it runs. */
const LOOKUP_MS = 20;
const SLOW_TENANT = 'tenant_that_hangs';
/** The short cache time of the route that sees a rotation. */
const ROTATING_CACHE_SECONDS = 3;

const TENANT_STORE_URL = Symbol('TENANT_STORE_URL');

/** The app's own tenant directory: secrets in Redis, and a count of lookups per tenant. */
@Injectable()
class TenantDirectory {
  readonly lookups = new Map<string, number>();
  private readonly redis: Redis;

  constructor(@Inject(TENANT_STORE_URL) url: string) {
    // Fail at once while the store is down (the module answers 503); reconnect in the background.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    this.redis.on('error', () => undefined);
  }

  async keplarsSecretOf(tenant: string): Promise<string | undefined> {
    this.lookups.set(tenant, (this.lookups.get(tenant) ?? 0) + 1);
    if (tenant === SLOW_TENANT) return new Promise(() => {}); // a vault that never answers
    await new Promise((resolve) => setTimeout(resolve, LOOKUP_MS));
    return (await this.redis.hget(SECRETS_KEY, tenant)) ?? undefined;
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** A handler of every event, counting its runs per endpoint, tenant and id. */
@Injectable()
class AllEvents {
  readonly everything: KeplarsEvent[] = [];
  private readonly counts = new Map<string, number>();

  @OnKeplarsEvent('*')
  onAnything(event: KeplarsEvent): void {
    this.everything.push(event);
    const key = JSON.stringify([event.endpoint, event.tenant, event.id]);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  runs(endpoint: string, id: string, tenant?: string): number {
    return this.counts.get(JSON.stringify([endpoint, tenant, id])) ?? 0;
  }
}

/** Handlers of one tenant only, as an app may single out a customer. */
@Injectable()
class FirstTenantHandler {
  readonly events: KeplarsEvent[] = [];

  @OnKeplarsEvent('*', { tenant: tenantName(1) })
  onFirstTenant(event: KeplarsEvent): void {
    this.events.push(event);
  }
}

function tenantsModule(storeUrl: string) {
  @Module({ providers: [TenantDirectory, { provide: TENANT_STORE_URL, useValue: storeUrl }], exports: [TenantDirectory] })
  class TenantDirectoryModule {}

  const endpoint = (name: string, path: string, cacheSeconds: number, timeoutMs: number) =>
    KeplarsWebhookModule.forRootAsync({
      name,
      path,
      imports: [TenantDirectoryModule],
      inject: [TenantDirectory],
      useFactory: (directory: TenantDirectory) => ({
        tenants: { resolveSecret: (tenant: string) => directory.keplarsSecretOf(tenant), cacheSeconds, timeoutMs },
      }),
    });
  return [
    // Generous timeout: the machine running the tests may be busy.
    endpoint('saas', '/webhooks/keplars/:tenant', 600, 10_000),
    // A second tenant route with a short cache, to see a rotation take effect, and a lookup time out.
    endpoint('rotating', '/webhooks/rotating/:tenant', ROTATING_CACHE_SECONDS, 1500),
    TenantDirectoryModule,
  ];
}

describe.each(ADAPTERS)('tenants resolved per request on %s', (adapter: AdapterName) => {
  let secretsServer: OwnRedisServer;
  let secretsAdmin: Redis;
  let app: INestApplication;
  let directory: TenantDirectory;
  let handlers: AllEvents;
  const logs = new CapturedLogs();

  const send = (tenant: string, secret: string, payload: object = buildKeplarsPayload('email.delivered'), path = '/webhooks/keplars/:tenant') =>
    postKeplarsEvent(app, payload, { tenant, secret, path });

  beforeAll(async () => {
    secretsServer = await OwnRedisServer.start();
    secretsAdmin = new Redis(secretsServer.url);
    const table: Record<string, string> = {};
    for (let i = 0; i < TENANTS; i++) table[tenantName(i)] = secretOf(i);
    await secretsAdmin.hset(SECRETS_KEY, table);
    app = await createWebhookApp({ adapter, logger: logs, imports: tenantsModule(secretsServer.url), providers: [AllEvents, FirstTenantHandler] });
    directory = app.get(TenantDirectory);
    handlers = app.get(AllEvents);
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    directory?.close();
    secretsAdmin?.disconnect();
    await secretsServer?.stop();
  });

  it(`verifies each of ${TENANTS} tenants' events with that tenant's secret only, looking each up once under concurrent load`, async () => {
    const answers: { tenant: number; kind: string; response: KeplarsDeliveryResponse; id: string }[] = [];
    // Cold cache: each tenant gets a delivery signed with its own secret and one signed with its
    // neighbour's, at the same moment, so both wait on one lookup.
    await runBounded(TENANTS, 50, async (i) => {
      const deliveries = [
        { kind: 'own secret', secret: secretOf(i) },
        { kind: "another tenant's secret", secret: secretOf((i + 1) % TENANTS) },
      ];
      await Promise.all(
        deliveries.map(async ({ kind, secret }) => {
          const payload = buildKeplarsPayload('email.delivered');
          answers.push({ tenant: i, kind, response: await send(tenantName(i), secret, payload), id: String(payload.id) });
        }),
      );
    });

    const statuses = new Map<string, number>();
    for (const { kind, response } of answers) statuses.set(`${kind} ${response.status}`, (statuses.get(`${kind} ${response.status}`) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 'own secret 200': TENANTS, "another tenant's secret 401": TENANTS });
    for (const { tenant, kind, id } of answers) {
      expect(handlers.runs('saas', id, tenantName(tenant))).toBe(kind === 'own secret' ? 1 : 0);
    }
    // One lookup per tenant, though two requests for it arrived while it ran.
    const lookups = Array.from({ length: TENANTS }, (_, i) => directory.lookups.get(tenantName(i)));
    expect(new Set(lookups)).toEqual(new Set([1]));

    // Warm cache: no lookup at all.
    await runBounded(100, 25, async (i) => {
      expect((await send(tenantName(i), secretOf(i))).status).toBe(200);
    });
    expect(directory.lookups.get(tenantName(0))).toBe(1);
  }, 120_000);

  it('keeps tenants apart: the same event id from two tenants is two events, and a tenant filter takes only its own', async () => {
    const payload = buildKeplarsPayload('email.opened', { id: `evt_same_for_two_tenants_${adapter}` });
    expect((await send(tenantName(1), secretOf(1), payload)).body).toEqual({ received: true });
    expect((await send(tenantName(2), secretOf(2), payload)).body).toEqual({ received: true });
    expect((await send(tenantName(1), secretOf(1), payload)).body).toEqual({ received: true, duplicate: true });
    expect([handlers.runs('saas', String(payload.id), tenantName(1)), handlers.runs('saas', String(payload.id), tenantName(2))]).toEqual([1, 1]);
    const first = app.get(FirstTenantHandler).events;
    expect(first.length).toBeGreaterThan(0);
    expect(new Set(first.map((event) => event.tenant))).toEqual(new Set([tenantName(1)]));
  }, 30_000);

  it('answers an unknown tenant exactly as a wrong signature: the same 401, body and headers, and runs nothing', async () => {
    const payload = buildKeplarsPayload('email.bounced');
    const unknown = await send('tenant_that_does_not_exist', 'whsec_guess', payload);
    const wrong = await send(tenantName(3), 'whsec_guess', payload);
    const comparable = (response: KeplarsDeliveryResponse) => {
      const { date: _date, ...headers } = response.headers;
      return { status: response.status, body: response.body, headers };
    };
    expect(comparable(unknown)).toEqual(comparable(wrong));
    expect(unknown.status).toBe(401);
    expect(handlers.everything.some((event) => event.id === payload.id)).toBe(false);
    // The log, which only the app's operators read, tells them apart: one by one while refusals are few,
    // and in the summary of a flood (the tests above refused a thousand) once they are many (issue 10, point 9).
    app.get(RefusalLog, { strict: false }).flush();
    expect(logs.text()).toMatch(
      /Rejected a webhook for tenant "tenant_that_does_not_exist" from .*: unknown tenant \(tenants.resolveSecret returned no secret for it\) \(401\)|more refused webhook requests? in the last .*\d+ for an unknown tenant \(401\)/,
    );
    expect(logs.text()).toMatch(/Rejected a webhook for tenant "tenant_0003" from .*: signature does not match/);
  }, 30_000);

  it('lets the sender test one tenant: --tenant fills the path, signed with that tenant’s secret', async () => {
    const { port } = app.getHttpServer().address() as AddressInfo; // listening since the first post
    const out: string[] = [];
    const output = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
    const url = `http://127.0.0.1:${port}/webhooks/keplars`;
    expect(await runKeplarsSend(['--url', url, '--tenant', tenantName(9), '--secret', secretOf(9)], {}, output)).toBe(0);
    expect(out.join('\n')).toContain(`POST ${url}/${tenantName(9)} (tenant ${tenantName(9)})`);
    expect(await runKeplarsSend(['--url', url, '--tenant', tenantName(9), '--secret', secretOf(8)], {}, output)).toBe(1);
    expect(out.join('\n')).toMatch(/refused: tenant "tenant_0009" is unknown to the app, or its secret is not the one used/);
  });

  it('takes a rotated secret once the cache time is over', async () => {
    const tenant = tenantName(7);
    const path = '/webhooks/rotating/:tenant';
    expect((await send(tenant, secretOf(7), undefined, path)).status).toBe(200);
    await secretsAdmin.hset(SECRETS_KEY, tenant, secretOf(7, 2));
    // Within the cache time, the cached secret still answers.
    expect((await send(tenant, secretOf(7), undefined, path)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, ROTATING_CACHE_SECONDS * 1000 + 100));
    expect((await send(tenant, secretOf(7, 2), undefined, path)).status).toBe(200);
    expect((await send(tenant, secretOf(7), undefined, path)).status).toBe(401);
    // The other endpoint, with its longer cache, still has the old one: each endpoint keeps its own cache.
    expect((await send(tenant, secretOf(7))).status).toBe(200);
  }, 30_000);

  it('answers 503 while the resolver fails or hangs, logged with the tenant, runs nothing, then recovers', async () => {
    const tenant = tenantName(500);
    await secretsAdmin.hset(SECRETS_KEY, 'tenant_new', 'whsec_new');
    await secretsServer.stop();
    const mark = logs.mark();
    const payload = buildKeplarsPayload('email.delivered');
    const down = await postKeplarsEvent(app, payload, { tenant: 'tenant_new', secret: 'whsec_new', path: '/webhooks/rotating/:tenant' });
    expect(down.status).toBe(503);
    expect(logs.since(mark, 'error').map((line) => line.message)).toEqual([
      expect.stringMatching(/Answered 503 to a webhook for tenant "tenant_new" from .*: its secret could not be looked up \(resolveSecret threw: .*\)/),
    ]);
    // A tenant whose secret is cached keeps working while the store is down.
    expect((await send(tenant, secretOf(500))).status).toBe(200);

    const hung = await send(SLOW_TENANT, 'whsec_any', undefined, '/webhooks/rotating/:tenant');
    expect(hung.status).toBe(503);
    expect(logs.text()).toMatch(/tenant "tenant_that_hangs".*no answer within 1500 ms \(tenants.timeoutMs\)/);

    await secretsServer.start();
    await secretsAdmin.hset(SECRETS_KEY, 'tenant_new', 'whsec_new'); // the server keeps nothing across a restart
    let status = 0;
    for (let attempt = 0; attempt < 300 && status !== 200; attempt++) {
      // Like Keplars: the same delivery again until it is accepted.
      status = (await postKeplarsEvent(app, payload, { tenant: 'tenant_new', secret: 'whsec_new', path: '/webhooks/rotating/:tenant' })).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    expect(handlers.runs('rotating', String(payload.id), 'tenant_new')).toBe(1);
  }, 30_000);
});
