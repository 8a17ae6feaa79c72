import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

describe.each(ADAPTERS)('smoke on %s', (adapter) => {
  it('receives an event', async () => {
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot('s3cret')], providers: [RecordingHandlers] });
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 's3cret' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    expect(app.get(RecordingHandlers).opened).toHaveLength(1);
    await app.close();
  });
});
