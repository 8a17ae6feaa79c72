import { Injectable, type INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { runBounded } from './robustness/support/bounded-pool.js';
import { CapturedLogs } from './support/captured-logs.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 23, point 2: a flood of made-up tenant ids (a well-formed signature needs no secret) must
// neither push real tenants out of the secret cache nor reach the resolver once per id.
const PATH = '/webhooks/keplars/:tenant';
const MADE_UP = 3000;
const MAX_CACHED_TENANTS = 100;
/** The module's default `tenants.maxLookupsPerSecond`. */
const LOOKUPS_PER_SECOND = 100;

/** The app's tenant directory; its store can go down. */
@Injectable()
class TenantDirectory {
  readonly secrets = new Map([['acme', 'whsec_acme']]);
  down = false;
  lookups = 0;

  async keplarsSecretOf(tenant: string): Promise<string | undefined> {
    this.lookups++;
    await new Promise((resolve) => setTimeout(resolve, 2)); // a database round trip
    if (this.down) throw new Error('connection refused');
    return this.secrets.get(tenant);
  }
}

describe.each(ADAPTERS)('a flood of made-up tenant ids, on %s', (adapter) => {
  let app: INestApplication;
  let directory: TenantDirectory;
  const logs = new CapturedLogs();
  const directoryOfApp = new TenantDirectory();

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      logger: logs,
      imports: [
        KeplarsWebhookModule.forRoot({
          path: PATH,
          tenants: { resolveSecret: (tenant) => directoryOfApp.keplarsSecretOf(tenant), maxCachedTenants: MAX_CACHED_TENANTS },
        }),
      ],
    });
    directory = directoryOfApp;
  });
  afterAll(() => app.close());

  it('keeps a cached tenant working while the store is down, and reaches the resolver a bounded number of times', async () => {
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { tenant: 'acme', secret: 'whsec_acme', path: PATH })).status).toBe(200);
    const lookupsBefore = directory.lookups;

    const statuses = new Map<number, number>();
    const started = Date.now();
    await runBounded(MADE_UP, 50, async (i) => {
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { tenant: `made_up_${i}`, secret: 'whsec_anything', path: PATH });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    });
    const seconds = Math.ceil((Date.now() - started) / 1000);

    // Every one refused: 401 while lookups are allowed, 503 (Keplars would retry) beyond them.
    expect([...statuses.keys()].every((status) => status === 401 || status === 503)).toBe(true);
    // A token bucket of LOOKUPS_PER_SECOND, refilled each second of the flood.
    expect(directory.lookups - lookupsBefore).toBeLessThanOrEqual(LOOKUPS_PER_SECOND * (1 + seconds));

    directory.down = true;
    try {
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { tenant: 'acme', secret: 'whsec_acme', path: PATH });
      expect(response.status).toBe(200);
    } finally {
      directory.down = false;
    }
  }, 60_000);
});
