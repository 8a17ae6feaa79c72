import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import { get, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The sample's operations endpoints, after real deliveries: what Prometheus and a probe would read.
describe('the sample app in operation', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startSampleApp();
    for (const type of ['email.delivered', 'email.opened', 'email.opened', 'email.clicked']) {
      expect((await postKeplarsEvent(app, buildKeplarsPayload(type, { recipient: 'reader@customer.example' }), { secret: TEST_SECRET })).status).toBe(200);
    }
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'whsec_wrong' })).status).toBe(401);
  });
  afterAll(() => app.close());

  it('GET /metrics answers Prometheus text a parser accepts, with the deliveries just made', async () => {
    const response = await request(app.getHttpServer()).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);

    const families = new Map(parsePrometheusTextFormat(response.text).map((family) => [family.name, family]));
    const deliveries = families.get('keplars_webhook_deliveries_total');
    expect(deliveries?.type).toBe('COUNTER');
    const count = (labels: Record<string, string>) =>
      deliveries!.metrics.filter((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value)).reduce((sum, metric) => sum + Number(metric.value), 0);
    expect(count({ keplars_webhook_outcome: 'handled' })).toBe(4);
    expect(count({ keplars_webhook_outcome: 'handled', keplars_webhook_event_type: 'email.opened' })).toBe(2);
    expect(count({ keplars_webhook_outcome: 'refused', keplars_webhook_refusal_reason: 'signature' })).toBe(1);

    expect(families.get('keplars_webhook_request_duration')?.type).toBe('HISTOGRAM');
    expect(families.get('keplars_webhook_handler_duration')?.type).toBe('HISTOGRAM');
    expect(families.get('keplars_webhook_signed_delivery_age')?.type).toBe('GAUGE');
    expect(response.text).not.toContain('reader@customer.example');
    expect(response.text).not.toContain(TEST_SECRET);
  });

  // The store is the app's own database (PGlite here): the module counts it as a Postgres store.
  it('GET /health: up, with the store and the age of the last signed delivery', async () => {
    const { status, body } = await get(app, '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', info: { keplars: { status: 'up', store: { status: 'up', kind: 'postgres' }, signedDelivery: { status: 'up' } } } });
  });
});
