import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { KeplarsHealthIndicator, KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OwnRedisServer, uniqueKeyPrefix } from './support/redis.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §6: a @nestjs/terminus health indicator, wired in an app's /health as the README shows,
// against a real Redis store that the test stops and starts.
const SECRET = 'whsec_health_41d8cd98f00b204e';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly keplars: KeplarsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.keplars.isHealthy('keplars')]);
  }

  /** A tight limit on the age of the last signed delivery, for the test to cross it. */
  @Get('health/strict')
  @HealthCheck()
  strict() {
    return this.health.check([() => this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: 0.05 })]);
  }
}

describe.each(ADAPTERS)('KeplarsHealthIndicator with Terminus on %s', (adapter) => {
  let redis: OwnRedisServer;
  let app: INestApplication;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    app = await createWebhookApp({
      adapter,
      imports: [
        TerminusModule,
        KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { redis: redis.url, keyPrefix: uniqueKeyPrefix('health'), operationTimeoutMs: 500 } } }),
      ],
      controllers: [HealthController],
    });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('healthy with Redis up', async () => {
    const { status, body } = await get(app, '/health');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info.keplars).toMatchObject({ status: 'up', store: { status: 'up', kind: 'redis' }, signedDelivery: { status: 'up' } });
  });

  it('unhealthy, naming the store, with Redis stopped; healthy again once it is back', async () => {
    await redis.stop();
    try {
      const { status, body } = await get(app, '/health');
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error.keplars).toMatchObject({ status: 'down', store: { status: 'down', kind: 'redis' } });
      expect(body.error.keplars.message).toMatch(/deduplication store \(redis\) is unreachable/);
      expect(body.error.keplars.store.error).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await get(app, '/health')).status === 200);
  });

  it('unhealthy when no signed delivery came within the threshold; a signed delivery makes it healthy', async () => {
    // Older than the 0.05 s limit of /health/strict, and by enough that the fresh age below (rounded to
    // 0.1 s) stays under it even on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'not the secret' })).toMatchObject({ status: 401 });
    const stale = await get(app, '/health/strict');
    expect(stale.status).toBe(503);
    expect(stale.body.error.keplars.signedDelivery).toMatchObject({ status: 'down', maxSeconds: 0.05 });
    expect(stale.body.error.keplars.message).toMatch(/no signed delivery for [\d.]+ s \(more than 0.05 s\)/);

    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET })).status).toBe(200);
    const fresh = await get(app, '/health/strict');
    expect(fresh.body.info?.keplars?.signedDelivery ?? fresh.body.error?.keplars?.signedDelivery).toMatchObject({ ageSeconds: expect.any(Number) });
    // A signed delivery resets the age: right after it, far below the age /health/strict saw before.
    // Terminus answers `info: {}` when the check is down, so look in both.
    const age = (fresh.body.info?.keplars ?? fresh.body.error?.keplars).signedDelivery.ageSeconds as number;
    expect(age).toBeLessThan(stale.body.error.keplars.signedDelivery.ageSeconds);
  });
});

function get(app: INestApplication, path: string): Promise<{ status: number; body: any }> {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('not healthy again within 5 s');
}

// Issue 22: with several Keplars accounts (named endpoints, SPEC §7), the age of the last signed
// delivery is kept per endpoint, so one account going silent shows while the others keep calling.
const ACCOUNTS = { eu: 'whsec_health_eu', us: 'whsec_health_us', apac: 'whsec_health_apac' } as const;
type Account = keyof typeof ACCOUNTS;

@Controller()
class AccountsHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly keplars: KeplarsHealthIndicator,
  ) {}

  /** One limit for every endpoint. */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: 0.3 })]);
  }

  /** A limit per endpoint: apac is a quiet account, judged on a longer limit. */
  @Get('health/per-endpoint')
  @HealthCheck()
  perEndpoint() {
    return this.health.check([() => this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: { eu: 0.3, us: 0.3, apac: 3600 } })]);
  }

  /** A limit for an endpoint the app does not have (a typo). */
  @Get('health/typo')
  @HealthCheck()
  typo() {
    return this.health.check([() => this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: { eu: 3600, uss: 3600 } })]);
  }
}

describe.each(ADAPTERS)('KeplarsHealthIndicator with three named endpoints on %s', (adapter) => {
  let app: INestApplication;
  const send = (account: Account) => postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: ACCOUNTS[account], path: `/webhooks/keplars/${account}` });

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [TerminusModule, ...(Object.keys(ACCOUNTS) as Account[]).map((name) => KeplarsWebhookModule.forRoot({ name, path: `/webhooks/keplars/${name}`, secret: ACCOUNTS[name] }))],
      controllers: [AccountsHealthController],
    });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  it('is down when one account went silent while the others call, naming it, with every endpoint’s age', async () => {
    await new Promise((resolve) => setTimeout(resolve, 400)); // every endpoint older than 0.3 s
    expect((await send('eu')).status).toBe(200);
    expect((await send('apac')).status).toBe(200);
    const { status, body } = await get(app, '/health');
    expect(status).toBe(503);
    const signed = body.error.keplars.signedDelivery;
    expect(signed.status).toBe('down');
    expect(signed.endpoints.us).toMatchObject({ status: 'down', maxSeconds: 0.3 });
    expect(signed.endpoints.us.ageSeconds).toBeGreaterThanOrEqual(0.3);
    expect(signed.endpoints.eu).toMatchObject({ status: 'up', maxSeconds: 0.3 });
    expect(signed.endpoints.apac).toMatchObject({ status: 'up', maxSeconds: 0.3 });
    expect(body.error.keplars.message).toMatch(/no signed delivery on endpoint "us" for [\d.]+ s \(more than 0.3 s\)/);
    expect(body.error.keplars.message).not.toMatch(/"eu"|"apac"/);

    // All three call again (together: on a loaded machine eu's and apac's calls above may be older
    // than 0.3 s by now, which made this check flaky), and the check is up.
    expect((await Promise.all([send('us'), send('eu'), send('apac')])).map((response) => response.status)).toEqual([200, 200, 200]);
    expect((await get(app, '/health')).status).toBe(200);
  });

  it('judges each endpoint on its own limit when given one per endpoint', async () => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await send('eu')).status).toBe(200);
    expect((await send('us')).status).toBe(200);
    const { status, body } = await get(app, '/health/per-endpoint'); // apac silent, but within its hour
    expect(status).toBe(200);
    expect(body.info.keplars.signedDelivery.endpoints.apac).toMatchObject({ status: 'up', maxSeconds: 3600 });
  });

  it('is down, saying which endpoints there are, when a limit names an endpoint the app does not have', async () => {
    const { status, body } = await get(app, '/health/typo');
    expect(status).toBe(503);
    expect(body.error.keplars.message).toMatch(/maxSecondsSinceSignedDelivery names endpoint "uss", which this app does not have \(its endpoints: eu, us, apac\)/);
  });
});
