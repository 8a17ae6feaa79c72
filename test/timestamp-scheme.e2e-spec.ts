import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

const SECRET = 'whsec_timestamped';

describe.each(ADAPTERS)('the timestamped scheme on %s: a timestamp missing or outside tolerance is 401', (adapter) => {
  let app: INestApplication;
  let handlers: RecordingHandlers;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, timestamp: { toleranceSeconds: 120 } })],
      providers: [RecordingHandlers],
    });
    handlers = app.get(RecordingHandlers);
  });
  afterAll(() => app.close());

  it('accepts a fresh timestamp signed with the body', async () => {
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, timestamp: true });
    expect(response.status).toBe(200);
  });

  it.each([
    ['missing', undefined],
    ['too old', -121],
    ['in the future', +121],
  ])('refuses a timestamp %s', async (_, offset) => {
    const runs = handlers.runs();
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), {
      secret: SECRET,
      ...(offset === undefined ? {} : { timestamp: now() + offset }),
    });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
    expect(handlers.runs()).toBe(runs);
  });

  it('refuses a valid timestamp header whose signature covers the body alone', async () => {
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), {
      secret: SECRET,
      headers: { 'x-keplars-timestamp': String(now()) },
    });
    expect(response.status).toBe(401);
  });
});
