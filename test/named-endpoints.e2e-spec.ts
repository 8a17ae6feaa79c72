import { Injectable, Module, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { runKeplarsSend } from '../libs/keplars-webhook/src/cli/run-keplars-send.js';
import { KeplarsWebhookModule, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { EndpointHandlers } from './support/endpoint-handlers.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';

// SPEC §7, named endpoints: the module imported once per Keplars account, each with its own name,
// path and secret; events say which endpoint received them; deduplication is kept apart per endpoint.
const ACCOUNTS = {
  eu: { path: '/webhooks/keplars/eu', secret: 'whsec_eu_account' },
  us: { path: '/webhooks/keplars/us', secret: 'whsec_us_account' },
} as const;
type Account = keyof typeof ACCOUNTS;

const send = (app: INestApplication, account: Account, payload: object, secret: string = ACCOUNTS[account].secret) =>
  postKeplarsEvent(app, payload, { secret, path: ACCOUNTS[account].path });

@Injectable()
class AccountsConfig {
  secretOf(account: Account): string {
    return ACCOUNTS[account].secret;
  }
}

@Module({ providers: [AccountsConfig], exports: [AccountsConfig] })
class AccountsConfigModule {}

type Deduplication = KeplarsWebhookOptions['deduplication'];

/** Both endpoints, with forRoot() or with forRootAsync() reading an injected config (the @nestjs/config way). */
const IMPORTS = {
  forRoot: (deduplication?: Deduplication) =>
    (Object.keys(ACCOUNTS) as Account[]).map((name) => KeplarsWebhookModule.forRoot({ name, ...ACCOUNTS[name], deduplication })),
  forRootAsync: (deduplication?: Deduplication) =>
    (Object.keys(ACCOUNTS) as Account[]).map((name) =>
      KeplarsWebhookModule.forRootAsync({
        name,
        path: ACCOUNTS[name].path,
        imports: [AccountsConfigModule],
        inject: [AccountsConfig],
        useFactory: (config: AccountsConfig) => ({ secret: config.secretOf(name), deduplication }),
      }),
    ),
};

describe.each(ADAPTERS.flatMap((adapter) => (['forRoot', 'forRootAsync'] as const).map((style) => [adapter, style] as const)))(
  'two named endpoints on %s with %s',
  (adapter: AdapterName, style) => {
    let app: INestApplication;
    let handlers: EndpointHandlers;
    const logs = new CapturedLogs();

    beforeAll(async () => {
      app = await createWebhookApp({ adapter, logger: logs, imports: IMPORTS[style](), providers: [EndpointHandlers] });
      handlers = app.get(EndpointHandlers);
    }, 30_000);
    afterAll(() => app.close());

    it.each([
      ['eu', 'eu', 200],
      ['us', 'us', 200],
      ['eu', 'us', 401],
      ['us', 'eu', 401],
    ] as const)("the %s endpoint, sent a delivery signed with the %s account's secret, answers %i", async (endpoint, signer, status) => {
      const payload = buildKeplarsPayload('email.opened');
      const response = await send(app, endpoint, payload, ACCOUNTS[signer].secret);
      expect(response.status).toBe(status);
      expect(handlers.runs(endpoint, String(payload.id))).toBe(status === 200 ? 1 : 0);
    });

    it('gives each event the name of the endpoint that received it, and handlers filtered by endpoint only theirs', async () => {
      const euBounce = buildKeplarsPayload('email.bounced', { recipient: 'eu@example.com' });
      const usBounce = buildKeplarsPayload('email.bounced', { recipient: 'us@example.com' });
      expect((await send(app, 'eu', euBounce)).status).toBe(200);
      expect((await send(app, 'us', usBounce)).status).toBe(200);

      expect(handlers.euBounces.map((event) => [event.endpoint, event.recipient])).toEqual([['eu', 'eu@example.com']]);
      expect(handlers.usBounces.map((event) => [event.endpoint, event.recipient])).toEqual([['us', 'us@example.com']]);
      // Unfiltered handlers take both, as with one endpoint.
      expect(handlers.runs('eu', String(euBounce.id))).toBe(1);
      expect(handlers.runs('us', String(usBounce.id))).toBe(1);
      expect(handlers.everything.find((event) => event.id === euBounce.id)?.tenant).toBeUndefined();
    });

    it('handles the same event id sent to both endpoints once on each: two accounts, two events', async () => {
      for (const shape of ['envelope', 'flat'] as const) {
        // The flat shape carries no id: both accounts derive the same kpl_… id from identical content.
        const payload = buildKeplarsPayload('email.delivered', { shape, id: shape === 'envelope' ? `evt_shared_${adapter}_${style}` : undefined, emailId: 'em_shared', timestamp: '2026-12-01T10:00:00Z' });
        const answers = [];
        for (const account of ['eu', 'us', 'eu', 'us'] as const) answers.push((await send(app, account, payload)).body);
        expect(answers).toEqual([{ received: true }, { received: true }, { received: true, duplicate: true }, { received: true, duplicate: true }]);
        const received = handlers.everything.filter((event) => isDeepStrictEqual(event.body, payload));
        expect(received.map((event) => event.endpoint)).toEqual(['eu', 'us']);
        expect(received[0]!.id).toBe(received[1]!.id);
      }
    }, 20_000);

    it('lets the sender test each endpoint with --path', async () => {
      const { port } = app.getHttpServer().address() as AddressInfo; // listening since the first post
      const out: string[] = [];
      const output = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
      const base = ['--url', `http://127.0.0.1:${port}/webhooks/keplars`, '--type', 'email.bounced'];
      expect(await runKeplarsSend([...base, '--path', ACCOUNTS.us.path, '--secret', ACCOUNTS.us.secret], {}, output)).toBe(0);
      expect(await runKeplarsSend([...base, '--path', ACCOUNTS.us.path, '--secret', ACCOUNTS.eu.secret], {}, output)).toBe(1);
      expect(out.join('\n')).toContain(`POST http://127.0.0.1:${port}/webhooks/keplars/us`);
      expect(handlers.usBounces.at(-1)?.subject).toBe('Test event from keplars-send');
    }, 20_000);

    it('finds each handler once for all endpoints: a typo is warned of once, not once per import', () => {
      const warnings = logs.lines.filter((line) => line.level === 'warn' && line.message.includes('EndpointHandlers.onTypo listens to "email.bouncd"'));
      expect(warnings).toHaveLength(1);
    });
  },
);

describe.each(ADAPTERS)('a Redis store shared by two endpoints and two app instances on %s', (adapter: AdapterName) => {
  const keyPrefix = uniqueKeyPrefix('named-endpoints');
  let redis: Redis;
  let apps: INestApplication[];
  const handlersOf = () => apps.map((app) => app.get(EndpointHandlers));
  const runs = (account: Account, id: string) => handlersOf().reduce((sum, handlers) => sum + handlers.runs(account, id), 0);

  beforeAll(async () => {
    redis = connectRedis();
    apps = await Promise.all(
      [0, 1].map(() =>
        createWebhookApp({ adapter, imports: IMPORTS.forRoot({ store: { redis: REDIS_URL, keyPrefix } }), providers: [EndpointHandlers] }),
      ),
    );
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await deleteKeys(redis, keyPrefix);
    await redis.quit();
  });

  it('never deduplicates across endpoints, and still deduplicates within one across instances', async () => {
    const payload = buildKeplarsPayload('email.opened', { id: `evt_both_${adapter}` });
    expect((await send(apps[0]!, 'eu', payload)).body).toEqual({ received: true });
    expect((await send(apps[1]!, 'us', payload)).body).toEqual({ received: true }); // another account's event, not a duplicate
    expect((await send(apps[1]!, 'eu', payload)).body).toEqual({ received: true, duplicate: true });
    expect((await send(apps[0]!, 'us', payload)).body).toEqual({ received: true, duplicate: true });
    expect([runs('eu', String(payload.id)), runs('us', String(payload.id))]).toEqual([1, 1]);
    // The marks are namespaced by endpoint in the one shared Redis.
    expect((await redis.keys(`${keyPrefix}*evt_both_${adapter}*`)).sort()).toEqual([`${keyPrefix}{eu::evt_both_${adapter}}`, `${keyPrefix}{us::evt_both_${adapter}}`]);
  });

  it('under a storm of the same ids sent to both endpoints over both instances, runs each endpoint’s event exactly once', async () => {
    const payloads = Array.from({ length: 20 }, (_, i) => buildKeplarsPayload('email.delivered', { id: `evt_storm_${adapter}_${i}` }));
    const deliver = async (app: INestApplication, account: Account, payload: object) => {
      // Like Keplars: retried until a 2xx (a 409 means another delivery of it is running).
      for (let attempt = 0; attempt < 50; attempt++) {
        const response = await send(app, account, payload);
        if (response.status < 300) return response.status;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('never accepted');
    };
    await Promise.all(payloads.flatMap((payload) => apps.flatMap((app) => (['eu', 'us'] as const).flatMap((account) => [deliver(app, account, payload), deliver(app, account, payload)]))));
    for (const payload of payloads) expect([runs('eu', String(payload.id)), runs('us', String(payload.id))]).toEqual([1, 1]);
  }, 60_000);
});
