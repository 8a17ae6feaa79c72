import { Injectable, type INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { OwnRedisServer } from './support/redis.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 10, point 4: a Redis connection dropped between the handlers and the record of their success
// used to lose the record: the delivery was answered 200, its lock lapsed, and the next copy ran the
// handlers again. The delivery now retries the record (bounded, with backoff) while it keeps the lock.
const SECRET = 'whsec_blips';
const LOCK_SECONDS = 1;

/** Drops the module's Redis connection while the handler runs, as a network blip would. */
@Injectable()
class ConnectionDroppingHandler {
  admin!: Redis;
  readonly runs = new Map<string, number>();

  @OnKeplarsEvent('email.delivered')
  async onDelivered(event: KeplarsEvent): Promise<void> {
    this.runs.set(event.id, (this.runs.get(event.id) ?? 0) + 1);
    await this.admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await new Promise((resolve) => setTimeout(resolve, 20)); // the module's client has seen its socket close
  }
}

describe.each(ADAPTERS)('a Redis connection dropped between the handlers and their record, on %s', (adapter) => {
  let server: OwnRedisServer;
  let app: INestApplication;
  let handler: ConnectionDroppingHandler;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: { redis: server.url, operationTimeoutMs: 500 }, lockSeconds: LOCK_SECONDS } })],
      providers: [ConnectionDroppingHandler],
      logger: logs,
    });
    handler = app.get(ConnectionDroppingHandler);
    handler.admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await app.close();
    handler.admin.disconnect();
    await server.stop();
  });

  it('records the success once the connection is back: a copy after the lock would have lapsed is a duplicate', async () => {
    const payload = buildKeplarsPayload('email.delivered');
    const id = String(payload.id);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, LOCK_SECONDS * 1000 + 300));
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).body).toEqual({ received: true, duplicate: true });
    expect(handler.runs.get(id)).toBe(1);
    expect(logs.text()).not.toMatch(/could not record it/);
  });
});
