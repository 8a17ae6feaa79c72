import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { KeplarsHealthIndicator, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ATTRIBUTE, METRIC, SPAN } from '../../libs/keplars-webhook/src/adapters/opentelemetry/telemetry-names.js';
import { InMemoryOpenTelemetry, seriesKey } from '../support/opentelemetry-sdk.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { ADAPTERS, createWebhookApp } from '../support/webhook-app.js';

// SPEC §6 in queue mode (SPEC §4a), on real Redis and BullMQ, over HTTP on both adapters: the
// receive side's outcomes, the queue's backlog and dead letters as metrics and in the health check,
// and the trace of a request carried into its job, so the worker's handler spans join it.
const SECRET = 'whsec_queue_operations_7c1e';

const sdk = InMemoryOpenTelemetry.register();
afterAll(() => sdk.shutdown());

@Injectable()
class DownstreamHandlers {
  readonly done = new Set<string>();

  @OnKeplarsEvent('*')
  async syncCrm(event: KeplarsEvent): Promise<void> {
    if (event.metadata['fail']) throw new RangeError('CRM rejected the update');
    this.done.add(event.id);
  }
}

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly keplars: KeplarsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.keplars.isHealthy('keplars', { maxDeadLetters: 0 })]);
  }

  @Get('health/lenient')
  @HealthCheck()
  lenient() {
    return this.health.check([() => this.keplars.isHealthy('keplars')]);
  }
}

describe.each(ADAPTERS)('operations in queue mode on %s', (adapter) => {
  const prefix = uniqueKeyPrefix(`queue-ops-${adapter}`).slice(0, -1);
  let redis: Redis;
  let app: INestApplication;
  let handlers: DownstreamHandlers;
  const post = (payload: object | string) => postKeplarsEvent(app, payload, { secret: SECRET });
  const jobs = async (state: string) => (await sdk.series()).get(seriesKey(METRIC.queueJobs, { [ATTRIBUTE.queueState]: state }));

  beforeAll(async () => {
    redis = connectRedis();
    app = await createWebhookApp({
      adapter,
      imports: [
        TerminusModule,
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { redis: REDIS_URL, prefix, attempts: 1, backoff: { delaySeconds: 0.05, jitter: 0 }, stalledSeconds: 5 },
          deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
        }),
      ],
      providers: [DownstreamHandlers],
      controllers: [HealthController],
    });
    await app.listen(0, '127.0.0.1');
    handlers = app.get(DownstreamHandlers);
  });
  afterAll(async () => {
    await app.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('healthy: the queue reachable, nothing waiting, no dead letters', async () => {
    const healthy = await get(app, '/health');
    expect(healthy.status).toBe(200);
    expect(healthy.body.info.keplars.queue).toEqual({ status: 'up', waiting: 0, active: 0, delayed: 0, deadLetters: 0, oldestWaitingAgeSeconds: 0 });
  });

  it('counts what the receiving side did: queued, duplicate, quarantined', async () => {
    const payload = buildKeplarsPayload('email.clicked');
    const before = await sdk.series();
    expect((await post(payload)).status).toBe(200);
    await waitFor(() => handlers.done.has(String(payload.id)), 'the worker to handle it');
    expect((await post(payload)).body).toEqual({ received: true, duplicate: true });
    expect((await post('{"event": 42}')).body).toMatchObject({ received: true, quarantined: true });
    const moved = InMemoryOpenTelemetry.moved(before, await sdk.series(), [METRIC.deliveries, METRIC.handlerDuration]);
    expect(moved).toEqual({
      // Per endpoint (SPEC §7): this app's one import is the unnamed endpoint.
      [seriesKey(METRIC.deliveries, { [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'queued', [ATTRIBUTE.eventType]: 'email.clicked' })]: 1,
      [seriesKey(METRIC.deliveries, { [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'duplicate', [ATTRIBUTE.eventType]: 'email.clicked' })]: 1,
      [seriesKey(METRIC.deliveries, { [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'quarantined' })]: 1,
      [seriesKey(METRIC.handlerDuration, {
        [ATTRIBUTE.endpoint]: 'default',
        [ATTRIBUTE.handler]: 'DownstreamHandlers.syncCrm',
        [ATTRIBUTE.handlerOutcome]: 'success',
        [ATTRIBUTE.eventType]: 'email.clicked',
      })]: 1,
    });
  });

  it("carries the request's trace into the job: the worker's attempt and handler spans join it", async () => {
    sdk.spans.reset();
    const payload = buildKeplarsPayload('email.delivered');
    expect((await post(payload)).status).toBe(200);
    await waitFor(() => handlers.done.has(String(payload.id)), 'the worker to handle it');
    await waitFor(() => sdk.finishedSpans().some((span) => span.name === SPAN.process), 'the attempt span to end');

    const spans = sdk.finishedSpans();
    const received = spans.find((span) => span.name === SPAN.delivery)!;
    const attempt = spans.find((span) => span.name === SPAN.process)!;
    const handler = spans.find((span) => span.name === `${SPAN.handler} DownstreamHandlers.syncCrm`)!;
    expect(received.attributes).toEqual({ [ATTRIBUTE.endpoint]: 'default', [ATTRIBUTE.outcome]: 'queued', [ATTRIBUTE.eventId]: payload.id, [ATTRIBUTE.eventType]: 'email.delivered' });
    expect(attempt.attributes).toEqual({
      [ATTRIBUTE.eventId]: payload.id,
      [ATTRIBUTE.eventType]: 'email.delivered',
      [ATTRIBUTE.attempt]: 1,
      [ATTRIBUTE.outcome]: 'handled',
    });
    expect(attempt.spanContext().traceId).toBe(received.spanContext().traceId);
    expect(attempt.parentSpanContext?.spanId).toBe(received.spanContext().spanId);
    expect(handler.spanContext().traceId).toBe(received.spanContext().traceId);
    expect(handler.parentSpanContext?.spanId).toBe(attempt.spanContext().spanId);
  });

  it('dead letters: counted in the queue metrics, and /health is down past the threshold, naming the queue', async () => {
    const payload = buildKeplarsPayload('email.bounced', { metadata: { fail: true } });
    expect((await post(payload)).status).toBe(200);
    await waitFor(async () => (await jobs('dead_letter')) === 2, 'the failed delivery (and the quarantined body) to be dead letters'); // one unreadable from the first test

    const series = await sdk.series();
    expect(series.get(seriesKey(METRIC.queueJobs, { [ATTRIBUTE.queueState]: 'waiting' }))).toBe(0);
    expect([...series.keys()]).toContain(seriesKey(METRIC.queueOldestWaitingAge, {}));

    const unhealthy = await get(app, '/health');
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body.error.keplars).toMatchObject({ status: 'down', queue: { status: 'down', deadLetters: 2 } });
    expect(unhealthy.body.error.keplars.message).toMatch(/queue is down: 2 dead letter\(s\) \(more than 0\)/);
    expect((await get(app, '/health/lenient')).status).toBe(200); // no threshold set: reported, not judged
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
