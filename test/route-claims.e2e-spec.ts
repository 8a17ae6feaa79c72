import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, keplarsSignatureHeaders, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 23, point 5: the module reads the body of a request only when the framework routes it to the
// webhook route. A path the framework does not route there (empty segments, an app's own route beside
// a tenant route) keeps the framework's parser and its answers, and no module marker.
const SECRET = 'whsec_claims';
const NOT_JSON = '{"type": "email.opened",';
const APP_JSON_LIMIT = 1024;

/** The app's own route, under the tenant route's path. */
@Controller('hooks')
class SpecialHookController {
  @Post('special')
  @HttpCode(200)
  special(@Body() body: unknown) {
    return { got: body };
  }
}

describe.each(ADAPTERS)('the module reads only the bodies the framework routes to its route, on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [
        KeplarsWebhookModule.forRoot({ name: 'main', secret: SECRET }),
        KeplarsWebhookModule.forRoot({ name: 'tenants', path: '/hooks/:tenant', tenants: { resolveSecret: (tenant) => (tenant === 'acme' ? SECRET : undefined) } }),
      ],
      controllers: [SpecialHookController],
      configure: (app) => {
        app.setGlobalPrefix('api');
        if (adapter === 'fastify') (app as NestFastifyApplication).useBodyParser('application/json', { bodyLimit: APP_JSON_LIMIT });
        else (app as NestExpressApplication).useBodyParser('json', { limit: APP_JSON_LIMIT });
      },
    });
  });
  afterAll(() => app.close());

  /** Posts to a path exactly as written (a URL would read `//api` as a host). */
  const postRaw = async (path: string, body: string) => {
    const server = app.getHttpServer() as { address(): AddressInfo | null; listening: boolean };
    if (!server.listening) await app.listen(0, '127.0.0.1');
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...keplarsSignatureHeaders(Buffer.from(body), SECRET) };
    return new Promise<{ status: number; refused: string | string[] | undefined }>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: server.address()!.port, method: 'POST', path, headers }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode!, refused: response.headers['x-keplars-webhook-refused'] }));
      });
      request.on('error', reject);
      request.end(body);
    });
  };

  it('leaves a path with empty segments, which no route serves, to the framework: no module marker', async () => {
    const large = buildKeplarsPayload('email.opened', { metadata: { padding: 'x'.repeat(200 * 1024) } });
    const response = await postRaw('//api//webhooks/keplars/', JSON.stringify(large));
    expect(response.status).not.toBe(200);
    expect(response.refused).toBeUndefined();
  });

  it("leaves the app's own route beside a tenant route to the app's parser: its 400 for a body that is not JSON, its limit", async () => {
    const ownRoute = await postKeplarsEvent(app, '{"a":1}', { secret: SECRET, path: '/api/hooks/special' });
    expect(ownRoute).toMatchObject({ status: 200, body: { got: { a: 1 } } });
    const notJson = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, path: '/api/hooks/special' });
    expect({ status: notJson.status, refused: notJson.headers['x-keplars-webhook-refused'] }).toEqual({ status: 400, refused: undefined });
    const overAppLimit = await postKeplarsEvent(app, JSON.stringify({ text: 'x'.repeat(2 * APP_JSON_LIMIT) }), { secret: SECRET, path: '/api/hooks/special' });
    expect(overAppLimit.status).toBe(413);
  });

  it('still reads the tenant route\'s body: a signed body that is not JSON is the module\'s 400', async () => {
    const response = await postKeplarsEvent(app, NOT_JSON, { secret: SECRET, tenant: 'acme', path: '/api/hooks/:tenant' });
    expect({ status: response.status, refused: response.headers['x-keplars-webhook-refused'] }).toEqual({ status: 400, refused: '1' });
  });
});
