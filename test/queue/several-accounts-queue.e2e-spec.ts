import { Injectable, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// SPEC §7 with §4a: a tenant route in queue mode keeps tenants (and endpoints) apart through the
// queue: one job per event and tenant, and the worker's event says where it came from.
const SECRETS: Record<string, string> = { acme: 'whsec_acme_queue', globex: 'whsec_globex_queue' };

@Injectable()
class TenantRecorder {
  readonly events: KeplarsEvent[] = [];

  @OnKeplarsEvent('*')
  record(event: KeplarsEvent): void {
    this.events.push(event);
  }
}

describe.each(ADAPTERS)('several accounts in queue mode on %s', (adapter: AdapterName) => {
  const prefix = uniqueKeyPrefix(`queue-tenants-${adapter}`).slice(0, -1);
  let redis: Redis;
  let app: INestApplication;

  beforeAll(async () => {
    redis = connectRedis();
    app = await createWebhookApp({
      adapter,
      imports: [
        KeplarsWebhookModule.forRoot({
          name: 'saas',
          path: '/webhooks/keplars/:tenant',
          tenants: { resolveSecret: (tenant) => SECRETS[tenant] },
          queue: { redis: REDIS_URL, prefix, backoff: { delaySeconds: 0.05, jitter: 0 } },
          deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
        }),
        // An inline endpoint beside it.
        KeplarsWebhookModule.forRoot({ name: 'eu', path: '/webhooks/keplars-eu', secret: 'whsec_eu_inline' }),
      ],
      providers: [TenantRecorder],
    });
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('queues the same event id from two tenants as two jobs, each handled once with its tenant and endpoint', async () => {
    const payload = buildKeplarsPayload('email.delivered', { id: `evt_queue_tenants_${adapter}` });
    for (const tenant of ['acme', 'globex', 'acme']) {
      const response = await postKeplarsEvent(app, payload, { tenant, secret: SECRETS[tenant]! });
      expect(response.status).toBe(200);
    }
    expect((await postKeplarsEvent(app, payload, { tenant: 'initech', secret: 'whsec_guess' })).status).toBe(401);
    const recorder = app.get(TenantRecorder);
    await waitFor(() => recorder.events.filter((event) => event.id === payload.id).length >= 2, 'both tenants’ events handled');
    await new Promise((resolve) => setTimeout(resolve, 200)); // a third run, if there were one, would show by now
    const handled = recorder.events.filter((event) => event.id === payload.id).map((event) => [event.endpoint, event.tenant]);
    expect(handled.sort()).toEqual([
      ['saas', 'acme'],
      ['saas', 'globex'],
    ]);
    // The inline endpoint beside it still handles its own.
    const inline = buildKeplarsPayload('email.opened', { id: `evt_queue_tenants_${adapter}` });
    expect((await postKeplarsEvent(app, inline, { path: '/webhooks/keplars-eu', secret: 'whsec_eu_inline' })).body).toEqual({ received: true });
    expect(recorder.events.filter((event) => event.endpoint === 'eu').map((event) => event.id)).toEqual([inline.id]);
  }, 30_000);
});
