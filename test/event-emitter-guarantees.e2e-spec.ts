import { Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { deduplicationStores } from './support/redis.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from './support/webhook-app.js';

// Issue 10, point 5: each `@OnEvent('keplars.…')` listener is one of the delivery's handlers, with the
// same guarantees as an `@OnKeplarsEvent()` handler: a listener that throws gets the delivery answered
// 500 and is run again on the retry; the listeners that succeeded are not. Whatever the event
// emitter's `suppressErrors` says, and with its wildcards.
const SECRET = 'whsec_emitter_guarantees';

@Injectable()
class Listeners {
  readonly runs = new Map<string, number>();
  private count(name: string, event: KeplarsEvent): number {
    const key = `${name} ${event.id}`;
    const runs = (this.runs.get(key) ?? 0) + 1;
    this.runs.set(key, runs);
    return runs;
  }
  runsOf(name: string, id: unknown): number {
    return this.runs.get(`${name} ${String(id)}`) ?? 0;
  }

  @OnEvent('keplars.email.delivered')
  flaky(event: KeplarsEvent): void {
    if (this.count('flaky', event) <= Number(event.metadata.fail ?? 0)) throw new Error('CRM timed out');
  }

  @OnEvent('keplars.email.delivered', { suppressErrors: false })
  async steady(event: KeplarsEvent): Promise<void> {
    this.count('steady', event);
  }

  @OnEvent('keplars.email.*')
  anyEmail(event: KeplarsEvent): void {
    this.count('anyEmail', event);
  }

  @OnEvent('keplars.**')
  everything(event: KeplarsEvent): void {
    this.count('everything', event);
  }

  @OnEvent('order.created')
  notKeplars(event: KeplarsEvent): void {
    this.count('notKeplars', event);
  }

  @OnKeplarsEvent('email.delivered')
  handler(event: KeplarsEvent): void {
    this.count('handler', event);
  }
}

describe.each(ADAPTERS.flatMap((adapter) => deduplicationStores('emitter-guarantees').map(([name, store, cleanup]) => [adapter, name, store, cleanup] as const)))(
  '@OnEvent listeners as handlers, on %s with the %s',
  (adapter: AdapterName, _storeName, store, cleanup) => {
    let app: INestApplication;
    let listeners: Listeners;
    const logs = new CapturedLogs();
    const deliver = (payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });

    beforeAll(async () => {
      app = await createWebhookApp({
        adapter,
        // The event emitter's defaults: suppressErrors is true, so a throwing listener would be only logged.
        imports: [EventEmitterModule.forRoot({ wildcard: true }), KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: store() } })],
        providers: [Listeners],
        logger: logs,
      });
      listeners = app.get(Listeners);
    });
    afterAll(async () => {
      await app.close();
      await cleanup();
    });

    it('a listener that throws gets 500; the retry runs it alone; then the event is a duplicate', async () => {
      const payload = buildKeplarsPayload('email.delivered', { metadata: { fail: 1 } });
      const mark = logs.mark();
      expect((await deliver(payload)).status).toBe(500);
      expect(logs.since(mark, 'error').map((line) => line.message).join('\n')).toContain(`Handler Listeners.flaky failed on email.delivered ${String(payload.id)}`);

      expect((await deliver(payload)).body).toEqual({ received: true });
      expect((await deliver(payload)).body).toEqual({ received: true, duplicate: true });
      expect(['flaky', 'steady', 'anyEmail', 'everything', 'handler'].map((name) => listeners.runsOf(name, payload.id))).toEqual([2, 1, 1, 1, 1]);
      expect(listeners.runsOf('notKeplars', payload.id)).toBe(0);
    });

    it('wildcards match as the event emitter matches them', async () => {
      const payload = buildKeplarsPayload('webhook.test');
      expect((await deliver(payload)).body).toEqual({ received: true });
      expect(['flaky', 'anyEmail', 'everything'].map((name) => listeners.runsOf(name, payload.id))).toEqual([0, 0, 1]);
    });
  },
);
