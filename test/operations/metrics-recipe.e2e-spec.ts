import { prometheusExporter } from '../../apps/sample/src/operations/instrumentation.js'; // first, as main.ts imports it: the SDK before any app
import { Injectable, type INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import { ADAPTERS, createWebhookApp } from '../support/webhook-app.js';
import { MetricsController } from '../../apps/sample/src/operations/metrics.controller.js';
import { readGuide, readRepositoryFile, rewriteBlock, snippetBlock, WRITE_DOCS } from './support/operations-guide.js';

// Issue 22, point 3: the metrics recipe of docs/operations.md (OpenTelemetry's Prometheus exporter
// read by a controller of the app's own) serves GET /metrics on Express and on Fastify. The code run
// here is the guide's, byte for byte: the last test compares them.
const SECRET = 'whsec_metrics_recipe';
const RECIPE = [
  ['src/instrumentation.ts', 'apps/sample/src/operations/instrumentation.ts'],
  ['src/metrics.controller.ts', 'apps/sample/src/operations/metrics.controller.ts'],
] as const;

@Injectable()
class OpenedHandler {
  @OnKeplarsEvent('email.opened')
  record(_event: KeplarsEvent): void {}
}

describe.each(ADAPTERS)('the metrics recipe of docs/operations.md on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    // One exporter serves both apps of this file: each app's endpoint is named after its adapter.
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ name: adapter, path: '/webhooks/keplars', secret: SECRET })],
      providers: [OpenedHandler],
      controllers: [MetricsController],
    });
  });
  afterAll(() => app.close());

  it('GET /metrics answers Prometheus text, with the deliveries just made, per endpoint', async () => {
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET })).status).toBe(200);
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'whsec_wrong' })).status).toBe(401);

    const response = await request(app.getHttpServer()).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8/);
    const families = new Map(parsePrometheusTextFormat(response.text).map((family) => [family.name, family]));
    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.metrics.find((metric) => Object.entries(labels).every(([key, label]) => metric.labels?.[key] === label))?.value;
    const endpoint = { keplars_webhook_endpoint: adapter };
    expect(value('keplars_webhook_deliveries_total', { ...endpoint, keplars_webhook_outcome: 'handled', keplars_webhook_event_type: 'email.opened' })).toBe('1');
    expect(value('keplars_webhook_deliveries_total', { ...endpoint, keplars_webhook_outcome: 'refused', keplars_webhook_refusal_reason: 'signature' })).toBe('1');
    expect(families.get('keplars_webhook_request_duration')?.type).toBe('HISTOGRAM');
    expect(Number(value('keplars_webhook_signed_delivery_age', endpoint))).toBeGreaterThanOrEqual(0);
  });

  it('collects from the exporter the recipe created (preventServerStart: no server of its own)', async () => {
    const { resourceMetrics } = await prometheusExporter.collect();
    expect(resourceMetrics.scopeMetrics.map((scope) => scope.scope.name)).toContain('nestjs-keplars-webhook');
  });
});

describe('docs/operations.md', () => {
  it.each(RECIPE)('shows %s exactly as tested here (%s)', (declared, file) => {
    const code = readRepositoryFile(file);
    if (WRITE_DOCS) rewriteBlock((text) => snippetBlock(text, declared), code);
    expect(snippetBlock(readGuide(), declared).content).toBe(code);
  });
});
