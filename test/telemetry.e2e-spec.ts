import { Injectable, type INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule, MemoryIdempotencyStore, OnKeplarsEvent, type EventClaim, type KeplarsEvent, type KeplarsIdempotencyStore } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ATTRIBUTE, METRIC, SPAN } from '../libs/keplars-webhook/src/adapters/opentelemetry/telemetry-names.js';
import { InMemoryOpenTelemetry, seriesKey } from './support/opentelemetry-sdk.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §6 through OpenTelemetry: every outcome of SPEC §3, posted over HTTP on both adapters, moves
// exactly its own series, handler runs are attributed to their handler, spans carry the documented
// attributes only, and no secret, body or recipient address reaches what the SDK exports.
const SECRET = 'whsec_otel_5e2a9c0d7b41f8a3';
const RECIPIENT = 'night.shift.reader@customer.example';
const SUBJECT = 'Invoice 4711 for ACME Corp, strictly confidential';

const sdk = InMemoryOpenTelemetry.register(); // before any app is created, as an app's tracing.ts would
afterAll(() => sdk.shutdown());

/** Handlers as an app would write them: one per concern, one that fails on demand, one that can be held. */
@Injectable()
class OperationsHandlers {
  private readonly holds = new Map<string, () => void>();
  readonly started = new Set<string>();

  @OnKeplarsEvent('email.delivered')
  recordDelivery(_event: KeplarsEvent): void {}

  @OnKeplarsEvent('email.bounced')
  async suppressAddress(event: KeplarsEvent): Promise<void> {
    await Promise.resolve();
    if (event.metadata['fail']) throw new TypeError('suppression list is read-only');
  }

  @OnKeplarsEvent('email.opened')
  async trackOpen(event: KeplarsEvent): Promise<void> {
    this.started.add(event.id);
    if (event.metadata['hold']) await new Promise<void>((resolve) => this.holds.set(event.id, resolve));
  }

  @OnKeplarsEvent('*')
  async audit(_event: KeplarsEvent): Promise<void> {
    await Promise.resolve();
  }

  release(eventId: string): void {
    this.holds.get(eventId)?.();
  }
}

/** The app's own store (the custom-store option), over the memory store, that can lose its connection. */
class SwitchableStore implements KeplarsIdempotencyStore {
  unreachable = false;
  private readonly memory = new MemoryIdempotencyStore({ maxEvents: 10_000 });

  claim(eventId: string, lockMs: number): Promise<EventClaim> {
    if (this.unreachable) return Promise.reject(new Error('connection refused'));
    return this.memory.claim(eventId, lockMs);
  }
  settle(...args: Parameters<KeplarsIdempotencyStore['settle']>): Promise<void> {
    return this.memory.settle(...args);
  }
}

type HandlerRun = readonly [handler: string, outcome: 'success' | 'failure'];

/** The series one request should move, and by one each: nothing else may move. */
function expectedSeries(expected: { outcome: string; reason?: string; type?: string; handlers?: readonly HandlerRun[]; endpoint?: string }): Record<string, number> {
  const endpoint = expected.endpoint ?? 'default';
  const delivery: Record<string, string> = { [ATTRIBUTE.endpoint]: endpoint, [ATTRIBUTE.outcome]: expected.outcome };
  if (expected.reason) delivery[ATTRIBUTE.refusalReason] = expected.reason;
  const series: Record<string, number> = {
    [seriesKey(METRIC.deliveries, { ...delivery, ...(expected.type && { [ATTRIBUTE.eventType]: expected.type }) })]: 1,
    [seriesKey(METRIC.requestDuration, delivery)]: 1,
  };
  for (const [handler, outcome] of expected.handlers ?? []) {
    series[seriesKey(METRIC.handlerDuration, { [ATTRIBUTE.endpoint]: endpoint, [ATTRIBUTE.handler]: `OperationsHandlers.${handler}`, [ATTRIBUTE.handlerOutcome]: outcome, [ATTRIBUTE.eventType]: expected.type })] = 1;
  }
  return series;
}

const MOVING = [METRIC.deliveries, METRIC.requestDuration, METRIC.handlerDuration];

describe.each(ADAPTERS)('OpenTelemetry metrics and spans on %s', (adapter) => {
  let app: INestApplication;
  let handlers: OperationsHandlers;
  const store = new SwitchableStore();
  const sentBodies: string[] = [];

  const payload = (type: string, overrides: Parameters<typeof buildKeplarsPayload>[1] = {}) => {
    const body = JSON.stringify(buildKeplarsPayload(type, { recipient: RECIPIENT, subject: SUBJECT, ...overrides }));
    sentBodies.push(body);
    return body;
  };
  const post = (body: string, options: Partial<Parameters<typeof postKeplarsEvent>[2]> = {}) =>
    postKeplarsEvent(app, body, { secret: SECRET, timestamp: true, ...options });

  /** What one action moved, in the module's counters and histograms. */
  async function movedBy(action: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await sdk.series();
    await action();
    return InMemoryOpenTelemetry.moved(before, await sdk.series(), MOVING);
  }

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, timestamp: true, maxBodyBytes: 4096, deduplication: { store } })],
      providers: [OperationsHandlers],
    });
    handlers = app.get(OperationsHandlers);
  });
  afterAll(() => app.close());

  describe('each outcome of SPEC §3 moves exactly its series', () => {
    it('handled: 200, the delivery and each matching handler counted once', async () => {
      const moved = await movedBy(async () => expect((await post(payload('email.delivered'))).status).toBe(200));
      expect(moved).toEqual(expectedSeries({ outcome: 'handled', type: 'email.delivered', handlers: [['recordDelivery', 'success'], ['audit', 'success']] }));
    });

    it('a type no handler takes: handled, only the wildcard handler ran', async () => {
      const moved = await movedBy(async () => expect((await post(payload('email.reported'))).status).toBe(200));
      expect(moved).toEqual(expectedSeries({ outcome: 'handled', type: 'email.reported', handlers: [['audit', 'success']] }));
    });

    it('duplicate: 200 "duplicate", no handler ran', async () => {
      const body = payload('email.delivered');
      expect((await post(body)).status).toBe(200);
      const moved = await movedBy(async () => expect((await post(body)).body).toEqual({ received: true, duplicate: true }));
      expect(moved).toEqual(expectedSeries({ outcome: 'duplicate', type: 'email.delivered' }));
    });

    it('in progress: 409 while another delivery of the event runs', async () => {
      const body = payload('email.opened', { id: `evt_hold_${adapter}`, metadata: { hold: true } });
      const first = post(body);
      await waitFor(() => handlers.started.has(`evt_hold_${adapter}`));
      const moved = await movedBy(async () => expect((await post(body)).status).toBe(409));
      handlers.release(`evt_hold_${adapter}`);
      expect((await first).status).toBe(200);
      expect(moved).toEqual(expectedSeries({ outcome: 'in_progress', type: 'email.opened' }));
    });

    it('handler failed: 500, the failure attributed to the failing handler, the other one succeeded', async () => {
      const moved = await movedBy(async () => expect((await post(payload('email.bounced', { metadata: { fail: true } }))).status).toBe(500));
      expect(moved).toEqual(
        expectedSeries({ outcome: 'handler_failed', type: 'email.bounced', handlers: [['suppressAddress', 'failure'], ['audit', 'success']] }),
      );
    });

    it('store unavailable: 503, no handler ran', async () => {
      store.unreachable = true;
      try {
        const moved = await movedBy(async () => expect((await post(payload('email.delivered'))).status).toBe(503));
        expect(moved).toEqual(expectedSeries({ outcome: 'store_unavailable', type: 'email.delivered' }));
      } finally {
        store.unreachable = false;
      }
    });

    it.each([
      ['signature missing', 401, 'signature', { signature: false }],
      ['signature wrong', 401, 'signature', { signature: `sha256=${'ab'.repeat(32)}` }],
      ['signature malformed', 401, 'signature', { signature: 'sha256=xyz' }],
      ['timestamp missing', 401, 'timestamp', { timestamp: undefined }],
      ['timestamp outside tolerance', 401, 'timestamp', { timestamp: Math.floor(Date.now() / 1000) - 3600 }],
      ['content type not JSON', 415, 'content_type', { headers: { 'content-type': 'text/plain' } }],
    ] as const)('refused, %s: %i, counted by its reason', async (_, status, reason, options) => {
      const moved = await movedBy(async () => expect((await post(payload('email.delivered'), options as object)).status).toBe(status));
      expect(moved).toEqual(expectedSeries({ outcome: 'refused', reason }));
    });

    it('refused, body over the size limit: 413', async () => {
      const moved = await movedBy(async () => expect((await post(payload('email.delivered', { extra: { padding: 'x'.repeat(5000) } }))).status).toBe(413));
      expect(moved).toEqual(expectedSeries({ outcome: 'refused', reason: 'size' }));
    });

    it.each([
      ['not an object', '[1,2,3]'],
      ['failing validation', JSON.stringify({ type: 'email.delivered', data: { email_id: 42 } })],
    ])('refused, signed payload %s: 400, reason payload', async (_, body) => {
      sentBodies.push(body);
      const moved = await movedBy(async () => expect((await post(body)).status).toBe(400));
      expect(moved).toEqual(expectedSeries({ outcome: 'refused', reason: 'payload' }));
    });

    it('reports the time since the last signed delivery, under the endpoint’s name', async () => {
      const series = await sdk.series();
      const age = seriesKey(METRIC.signedDeliveryAge, { [ATTRIBUTE.endpoint]: 'default' });
      expect([...series.keys()].filter((key) => key.startsWith(`${METRIC.signedDeliveryAge}{`))).toEqual([age]);
      expect(series.get(age)).toBeGreaterThanOrEqual(0);
    });
  });

  describe('spans', () => {
    beforeEach(() => sdk.spans.reset());

    it('one span per delivery with the event id and type, a child per handler, and nothing else', async () => {
      const body = payload('email.bounced', { id: `evt_spans_${adapter}`, metadata: { fail: true } });
      expect((await post(body)).status).toBe(500);

      const spans = sdk.finishedSpans();
      const delivery = spans.filter((span) => span.name === SPAN.delivery);
      expect(delivery).toHaveLength(1);
      expect(delivery[0]!.attributes).toEqual({
        [ATTRIBUTE.endpoint]: 'default',
        [ATTRIBUTE.eventId]: `evt_spans_${adapter}`,
        [ATTRIBUTE.eventType]: 'email.bounced',
        [ATTRIBUTE.outcome]: 'handler_failed',
      });
      expect(delivery[0]!.status.code).toBe(2); // ERROR

      const children = spans.filter((span) => span.parentSpanContext?.spanId === delivery[0]!.spanContext().spanId);
      expect(children.map((span) => span.name).sort()).toEqual([`${SPAN.handler} OperationsHandlers.audit`, `${SPAN.handler} OperationsHandlers.suppressAddress`]);
      expect(children.every((span) => span.spanContext().traceId === delivery[0]!.spanContext().traceId)).toBe(true);
      const failed = children.find((span) => span.name.endsWith('suppressAddress'))!;
      expect(failed.attributes).toEqual({ [ATTRIBUTE.handler]: 'OperationsHandlers.suppressAddress', [ATTRIBUTE.errorType]: 'TypeError' });
      expect(failed.status).toEqual({ code: 2 }); // ERROR, and no message: the error's words stay in the log
      expect(children.find((span) => span.name.endsWith('audit'))!.attributes).toEqual({ [ATTRIBUTE.handler]: 'OperationsHandlers.audit' });
      expect(spans.flatMap((span) => span.events)).toEqual([]);
    });

    it('a refused request: one span with the outcome and reason only, no handler span', async () => {
      expect((await post(payload('email.delivered'), { signature: false })).status).toBe(401);
      const spans = sdk.finishedSpans();
      expect(spans.map((span) => span.name)).toEqual([SPAN.delivery]);
      expect(spans[0]!.attributes).toEqual({ [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'refused', [ATTRIBUTE.refusalReason]: 'signature' });
    });
  });

  it('exports no secret, body or recipient address in any span or metric', async () => {
    sdk.spans.reset();
    for (const body of [payload('email.delivered'), payload('email.bounced', { metadata: { fail: true } }), payload('email.clicked')]) await post(body);
    await post(payload('email.opened'), { signature: false });
    await post('{"not":"valid"', {});

    const exported = JSON.stringify(
      sdk.finishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status, links: span.links, resource: span.resource.attributes })),
    ) + JSON.stringify(await sdk.collect());
    expect(sdk.finishedSpans().length).toBeGreaterThanOrEqual(5);
    for (const secret of [SECRET, RECIPIENT, SUBJECT, ...sentBodies]) expect(exported).not.toContain(secret);
  });
});

// SPEC §7: with several Keplars accounts, each endpoint has its own series.
describe.each(ADAPTERS)('OpenTelemetry metrics of two named endpoints on %s', (adapter) => {
  let app: INestApplication;
  const accounts = { eu: 'whsec_otel_eu', us: 'whsec_otel_us' } as const;

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: (['eu', 'us'] as const).map((name) => KeplarsWebhookModule.forRoot({ name, path: `/webhooks/keplars/${name}`, secret: accounts[name] })),
      providers: [OperationsHandlers],
    });
  });
  afterAll(() => app.close());

  it('counts each endpoint’s deliveries, refusals and handler runs under its own name', async () => {
    const before = await sdk.series();
    const event = JSON.stringify(buildKeplarsPayload('email.delivered', { id: `evt_otel_both_${adapter}` }));
    for (const name of ['eu', 'us'] as const) expect((await postKeplarsEvent(app, event, { secret: accounts[name], path: `/webhooks/keplars/${name}` })).status).toBe(200);
    expect((await postKeplarsEvent(app, event, { secret: accounts.eu, path: '/webhooks/keplars/us' })).status).toBe(401);
    const moved = InMemoryOpenTelemetry.moved(before, await sdk.series(), MOVING);
    const handled = (endpoint: string) => expectedSeries({ endpoint, outcome: 'handled', type: 'email.delivered', handlers: [['recordDelivery', 'success'], ['audit', 'success']] });
    expect(moved).toEqual({ ...handled('eu'), ...handled('us'), ...expectedSeries({ endpoint: 'us', outcome: 'refused', reason: 'signature' }) });
  });

  it('reports the time since the last signed delivery per endpoint: one account going silent shows (issue 22)', async () => {
    const age = (series: Map<string, number>, endpoint: string) => series.get(seriesKey(METRIC.signedDeliveryAge, { [ATTRIBUTE.endpoint]: endpoint }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: accounts.eu, path: '/webhooks/keplars/eu' })).status).toBe(200);
    const series = await sdk.series();
    expect(age(series, 'us')).toBeGreaterThanOrEqual(0.3); // silent since startup
    expect(age(series, 'eu')).toBeLessThan(0.3); // just called
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('condition not met within 5 s');
}

/** An app whose only handler takes bounces: a delivery of any other type is taken by no handler. */
@Injectable()
class BounceOnlyHandlers {
  @OnKeplarsEvent('email.bounced')
  suppress(_event: KeplarsEvent): void {}
}

// Issue 22: a delivery that no handler took has its own outcome, `no_handler`, not `handled`; it is
// still answered 200 (SPEC §3), and counted under it in the metrics and on the delivery's span.
describe.each(ADAPTERS)('OpenTelemetry: a delivery no handler takes on %s', (adapter) => {
  let app: INestApplication;
  const secret = 'whsec_otel_no_handler';

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(secret)], providers: [BounceOnlyHandlers] });
  });
  afterAll(() => app.close());

  it('is answered 200 and counted as outcome no_handler, in the metrics and on its span', async () => {
    sdk.spans.reset();
    const before = await sdk.series();
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened', { id: `evt_no_handler_${adapter}` }), { secret });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    const moved = InMemoryOpenTelemetry.moved(before, await sdk.series(), MOVING);
    expect(moved).toEqual(expectedSeries({ outcome: 'no_handler', type: 'email.opened' }));
    const [span] = sdk.finishedSpans().filter((finished) => finished.name === SPAN.delivery);
    expect(span?.attributes[ATTRIBUTE.outcome]).toBe('no_handler');
    expect(span?.status.code).not.toBe(2); // not an error: Keplars sends types an app does not take
  });

  it('a delivery its handler takes is still handled', async () => {
    const before = await sdk.series();
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.bounced'), { secret })).status).toBe(200);
    const moved = InMemoryOpenTelemetry.moved(before, await sdk.series(), MOVING);
    expect(moved[seriesKey(METRIC.deliveries, { [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'handled', [ATTRIBUTE.eventType]: 'email.bounced' })]).toBe(1);
  });
});
