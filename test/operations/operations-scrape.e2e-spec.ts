import { Injectable, type INestApplication } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ADAPTERS, createWebhookApp } from '../support/webhook-app.js';
import { markedBlock, readGuide, rewriteBlock, WRITE_DOCS } from './support/operations-guide.js';

// Issue 22, point 8: the sample scrape in docs/operations.md is a real one. Each adapter's app gets a
// fresh OpenTelemetry SDK with the Prometheus exporter (as the guide's recipe registers it), is sent the
// deliveries the guide lists, and is scraped; the guide's block must equal that scrape, histogram
// buckets left out and durations (which vary from run to run) compared by shape only.
// `npm run docs:operations` writes the scrape into the guide.
const SECRET = 'whsec_operations_guide';
const MARKER = 'scrape:';

/** The guide's handler: it takes the types the sample app records. */
@Injectable()
class EmailStatusService {
  @OnKeplarsEvent(['email.delivered', 'email.opened', 'email.clicked'])
  record(_event: KeplarsEvent): void {}
}

/** What the guide says was sent, in this order. */
async function sendTheGuidesDeliveries(app: INestApplication): Promise<void> {
  const delivered = buildKeplarsPayload('email.delivered');
  const statuses: number[] = [];
  for (const payload of [delivered, buildKeplarsPayload('email.opened'), buildKeplarsPayload('email.opened'), buildKeplarsPayload('email.clicked')]) {
    statuses.push((await postKeplarsEvent(app, payload, { secret: SECRET })).status);
  }
  statuses.push((await postKeplarsEvent(app, delivered, { secret: SECRET })).status); // Keplars' retry: a duplicate
  statuses.push((await postKeplarsEvent(app, buildKeplarsPayload('email.complained'), { secret: SECRET })).status); // no handler takes it
  statuses.push((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'whsec_not_the_secret' })).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 401]);
}

/**
 * The module's series of a Prometheus scrape, as the guide shows them: its own metric families only,
 * no histogram buckets, series sorted within each family, durations and ages rounded to 2 digits.
 */
function guideScrape(scrape: string): string {
  const families: string[][] = [];
  for (const line of scrape.split('\n')) {
    if (line.startsWith('# HELP ')) families.push([]);
    const family = families.at(-1);
    if (family === undefined || line === '' || /_bucket\{/.test(line)) continue;
    family.push(line);
  }
  return (
    families
      .filter((family) => family[0]!.startsWith('# HELP keplars_webhook_'))
      .map((family) => [...family.filter((line) => line.startsWith('#')), ...family.filter((line) => !line.startsWith('#')).map(rounded).sort()].join('\n'))
      .join('\n') + '\n'
  );
}

/** A duration or an age varies from run to run: 2 significant digits, enough for a reader. */
function rounded(line: string): string {
  const [series, value] = splitSeries(line);
  return varies(series) ? `${series} ${Number(Number(value).toPrecision(2))}` : line;
}

/** For the comparison: what varies, replaced by a placeholder. */
function shape(block: string): string {
  return block
    .split('\n')
    .map((line) => (line.startsWith('#') || line === '' || !varies(splitSeries(line)[0]) ? line : `${splitSeries(line)[0]} <varies>`))
    .join('\n');
}

function splitSeries(line: string): [string, string] {
  const at = line.lastIndexOf(' ');
  return [line.slice(0, at), line.slice(at + 1)];
}

function varies(series: string): boolean {
  return /_sum\{/.test(series) || series.startsWith('keplars_webhook_signed_delivery_age{');
}

describe.each(ADAPTERS)('the sample scrape of docs/operations.md, on %s', (adapter) => {
  let app: INestApplication;
  let exporter: PrometheusExporter;
  let provider: MeterProvider;

  beforeAll(async () => {
    // A fresh SDK for each app, registered before it is created (the recipe of the guide, in a form that can be redone).
    exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [EmailStatusService] });
  });
  afterAll(async () => {
    await app.close();
    await provider.shutdown();
    metrics.disable();
  });

  it('equals a fresh scrape after the deliveries the guide lists', async () => {
    await sendTheGuidesDeliveries(app);
    const { resourceMetrics } = await exporter.collect();
    const fresh = guideScrape(new PrometheusSerializer().serialize(resourceMetrics));
    if (WRITE_DOCS && adapter === ADAPTERS[0]) rewriteBlock((text) => markedBlock(text, MARKER), fresh);
    const documented = markedBlock(readGuide(), MARKER).content;
    if (shape(documented) !== shape(fresh)) {
      throw new Error(`docs/operations.md's sample scrape is not what the module exports now: run npm run docs:operations and commit the guide.\n--- documented\n${documented}--- fresh scrape\n${fresh}`);
    }
  });
});
