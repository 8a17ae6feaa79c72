import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { KeplarsWebhookModule, type EmailOpenedEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

const SECRET = 'whsec_emitter';

@Injectable()
class EmitterListeners {
  readonly opened: EmailOpenedEvent[] = [];
  readonly anyEmail: KeplarsEvent[] = [];

  @OnEvent('keplars.email.opened')
  onOpened(event: EmailOpenedEvent): void {
    this.opened.push(event);
  }

  @OnEvent('keplars.email.*')
  onAnyEmail(event: KeplarsEvent): void {
    this.anyEmail.push(event);
  }
}

describe.each(ADAPTERS)('@nestjs/event-emitter on %s', (adapter) => {
  it('delivers each event once as keplars.<type>, beside @OnKeplarsEvent handlers', async () => {
    const app = await createWebhookApp({
      adapter,
      imports: [EventEmitterModule.forRoot({ wildcard: true }), KeplarsWebhookModule.forRoot(SECRET)],
      providers: [EmitterListeners, RecordingHandlers],
    });
    const payload = buildKeplarsPayload('email.opened');
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).body).toEqual({ received: true, duplicate: true });
    await postKeplarsEvent(app, buildKeplarsPayload('email.clicked'), { secret: SECRET });

    const listeners = app.get(EmitterListeners);
    expect(listeners.opened.map((event) => event.id)).toEqual([payload.id]);
    expect(listeners.anyEmail.map((event) => event.type)).toEqual(['email.opened', 'email.clicked']);
    expect(app.get(RecordingHandlers).opened).toHaveLength(1);
    await app.close();
  });

  it('emits nothing with emitEvents: false', async () => {
    const app = await createWebhookApp({
      adapter,
      imports: [EventEmitterModule.forRoot(), KeplarsWebhookModule.forRoot({ secret: SECRET, emitEvents: false })],
      providers: [EmitterListeners],
    });
    expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET })).status).toBe(200);
    expect(app.get(EmitterListeners).opened).toHaveLength(0);
    await app.close();
  });
});
