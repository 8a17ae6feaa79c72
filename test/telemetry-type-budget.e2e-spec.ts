import type { INestApplication } from '@nestjs/common';
import { KEPLARS_EVENT_TYPES, KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ATTRIBUTE, METRIC } from '../libs/keplars-webhook/src/adapters/opentelemetry/telemetry-names.js';
import { InMemoryOpenTelemetry } from './support/opentelemetry-sdk.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 23, point 6: event types come from signed requests, so the metrics keep at most 64 of them
// and count the rest as "other". One signer (a tenant: a customer) could take all 64 slots with
// made-up types; Keplars' own types must keep their name whatever it sends.
const SECRET = 'whsec_type_budget';
const MADE_UP_TYPES = 70;

const sdk = InMemoryOpenTelemetry.register();
afterAll(() => sdk.shutdown());

describe.each(ADAPTERS)('the event-type budget of the metrics, on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot({ name: `budget-${adapter}`, secret: SECRET })] });
  });
  afterAll(() => app.close());

  /** The event types the deliveries metric has counted for this endpoint. */
  const countedTypes = async () => {
    const types = new Set<string>();
    const endpoint = `${ATTRIBUTE.endpoint}=budget-${adapter}`;
    for (const key of (await sdk.series()).keys()) {
      if (!key.startsWith(`${METRIC.deliveries}{`) || !key.includes(endpoint)) continue;
      const type = new RegExp(`${ATTRIBUTE.eventType.replaceAll('.', '\\.')}=([^,}]*)`).exec(key)?.[1];
      if (type !== undefined) types.add(type);
    }
    return types;
  };

  it('keeps counting Keplars\' own types by name after made-up types filled the budget', async () => {
    for (let i = 0; i < MADE_UP_TYPES; i++) {
      expect((await postKeplarsEvent(app, buildKeplarsPayload(`custom.made_up_${i}`), { secret: SECRET })).status).toBe(200);
    }
    for (const type of KEPLARS_EVENT_TYPES) expect((await postKeplarsEvent(app, buildKeplarsPayload(type), { secret: SECRET })).status).toBe(200);

    const types = await countedTypes();
    expect([...KEPLARS_EVENT_TYPES].filter((type) => !types.has(type))).toEqual([]);
    // The made-up ones are still bounded: 64 by name, the rest as "other".
    expect([...types].filter((type) => type.startsWith('custom.'))).toHaveLength(64);
    expect(types.has('other')).toBe(true);
  }, 60_000);
});
