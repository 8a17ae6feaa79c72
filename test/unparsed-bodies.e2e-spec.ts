import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 12: the module reads the body of its own route itself, so a signed body that is not JSON is
// answered by the module (after the signature check) instead of by the framework's JSON parser. The
// app's other routes must not notice: same parser, same 400, same limits as before.
const SECRET = 'whsec_unparsed';
const NOT_JSON = '{"type": "email.opened",';
const APP_JSON_LIMIT = 1024;

/** A route of the app's own, beside the webhook. */
@Controller('notes')
class NotesController {
  @Post()
  @HttpCode(200)
  create(@Body() body: unknown) {
    return { got: body };
  }
}

describe.each(ADAPTERS)('the webhook route reads its own body, the rest of the app is untouched, on %s', (adapter) => {
  let app: INestApplication;
  let handlers: RecordingHandlers;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      logger: logs,
      imports: [
        KeplarsWebhookModule.forRoot({ name: 'main', secret: SECRET }),
        KeplarsWebhookModule.forRoot({ name: 'tenants', path: '/hooks/:tenant', tenants: { resolveSecret: (tenant) => (tenant === 'acme' ? SECRET : undefined) } }),
      ],
      controllers: [NotesController],
      providers: [RecordingHandlers],
      configure: (app) => {
        app.setGlobalPrefix('api');
        // The app's own parser settings, for its own routes.
        if (adapter === 'fastify') (app as NestFastifyApplication).useBodyParser('application/json', { bodyLimit: APP_JSON_LIMIT });
        else (app as NestExpressApplication).useBodyParser('json', { limit: APP_JSON_LIMIT });
      },
    });
    await app.listen(0, '127.0.0.1');
    handlers = app.get(RecordingHandlers);
  });
  afterAll(() => app.close());

  const postToNotes = async (body: string) => {
    const response = await fetch(`${await app.getUrl()}/api/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, refused: response.headers.get('x-keplars-webhook-refused'), body: (await response.json()) as Record<string, unknown> };
  };

  describe("another route of the app keeps the framework's parser", () => {
    it('parses JSON as before', async () => {
      expect(await postToNotes('{"a":1}')).toMatchObject({ status: 200, body: { got: { a: 1 } } });
    });

    it("answers a body that is not JSON with the framework's 400, not the module's", async () => {
      const response = await postToNotes(NOT_JSON);
      expect(response.status).toBe(400);
      expect(response.refused).toBeNull();
    });

    it("keeps the app's own body limit", async () => {
      expect((await postToNotes(JSON.stringify({ text: 'x'.repeat(APP_JSON_LIMIT) }))).status).toBe(413);
    });
  });

  describe('the webhook route under a global prefix', () => {
    it('takes a valid event', async () => {
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, path: '/api/webhooks/keplars' });
      expect(response.status).toBe(200);
      expect(handlers.opened.length).toBeGreaterThan(0);
    });

    it("answers a signed body that is not JSON itself: 400 with the parser's message, after the signature check", async () => {
      const mark = logs.mark();
      const response = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, path: '/api/webhooks/keplars' });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([expect.stringMatching(/^the body is not valid JSON: .+/)]);
      expect(response.headers['x-keplars-webhook-refused']).toBe('1');
      expect(logs.since(mark, 'warn').map((line) => line.message)).toEqual([expect.stringMatching(/^Rejected a signed webhook with an invalid payload \(400\): the body is not valid JSON: /)]);
      expect((await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, signature: false, path: '/api/webhooks/keplars' })).status).toBe(401);
    });

    it("is not held to the app's own limit for its other routes (maxBodyBytes is the webhook's)", async () => {
      const payload = buildKeplarsPayload('email.opened', { metadata: { padding: 'x'.repeat(4 * APP_JSON_LIMIT) } });
      expect((await postKeplarsEvent(app, payload, { secret: SECRET, path: '/api/webhooks/keplars' })).status).toBe(200);
    });
  });

  describe('a tenant route under a global prefix', () => {
    it('takes a valid event, and answers a signed body that is not JSON with 400 from the module; unsigned, 401', async () => {
      const path = '/api/hooks/:tenant';
      expect((await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, tenant: 'acme', path })).status).toBe(200);
      const notJson = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, tenant: 'acme', path });
      expect(notJson.status).toBe(400);
      expect(notJson.body.message).toEqual([expect.stringMatching(/^the body is not valid JSON: /)]);
      expect((await postKeplarsEvent(app, NOT_JSON, { secret: 'whsec_other', tenant: 'acme', path })).status).toBe(401);
      expect((await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, tenant: 'unknown', path })).status).toBe(401);
    });
  });
});

describe.each(ADAPTERS)('the webhook route excluded from the global prefix, on %s', (adapter) => {
  it("reads its own body at the path given, and the prefixed path is not the webhook's", async () => {
    const app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, path: '/hooks/keplars-email' })],
      controllers: [NotesController],
      configure: (app) => app.setGlobalPrefix('api', { exclude: ['hooks/keplars-email'] }),
    });
    try {
      const notJson = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, path: '/hooks/keplars-email' });
      expect(notJson.status).toBe(400);
      expect(notJson.body.message).toEqual([expect.stringMatching(/^the body is not valid JSON: /)]);
      // Nothing is served there: the framework's parser answers first, as for any path of the app.
      const elsewhere = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, path: '/api/hooks/keplars-email' });
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.headers['x-keplars-webhook-refused']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe.each(ADAPTERS)('a signed body with a "__proto__" key, on %s', (adapter) => {
  it('is refused by the module with the reason, as the queue\'s worker would read it (issue 23, point 4)', async () => {
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)] });
    try {
      const response = await postKeplarsEvent(app, '{"type":"email.opened","__proto__":{"admin":true}}', { secret: SECRET });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([expect.stringMatching(/"__proto__" key, which the module refuses/)]);
    } finally {
      await app.close();
    }
  });
});
