import { Body, Controller, HttpCode, Post, VersioningType, type INestApplication, type Type } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 23, point 1: the module reads its own route's body however Nest places the route (SPEC §3):
// URI, header and media-type versioning, RouterModule paths, a global prefix and its exclusions. A
// signed body that is not JSON is then the module's 400 (with its marker), never the framework's,
// and a body over the framework's own limit reaches the module's limit, not the parser's 413.
const SECRET = 'whsec_versioned';
const NOT_JSON = '{"type": "email.opened",';
/** Over Express's default 100 kB, under the webhook's `maxBodyBytes` below. */
const LARGE_PAYLOAD = buildKeplarsPayload('email.opened', { metadata: { padding: 'x'.repeat(150 * 1024) } });

@Controller('notes')
class NotesController {
  @Post()
  @HttpCode(200)
  create(@Body() body: unknown) {
    return { got: body };
  }
}

interface Placement {
  readonly name: string;
  readonly configure: (app: INestApplication) => void;
  /** Where the webhook is served. */
  readonly path: string;
  /** Headers that pick the route's version, if the versioning reads one. */
  readonly headers?: Record<string, string>;
  readonly routerModule?: boolean;
}

const PLACEMENTS: readonly Placement[] = [
  { name: 'URI versioning', configure: (app) => app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' }), path: '/v1/webhooks/keplars' },
  {
    name: 'URI versioning under a global prefix',
    configure: (app) => app.setGlobalPrefix('api').enableVersioning({ type: VersioningType.URI, defaultVersion: ['1', '2'] }),
    path: '/api/v2/webhooks/keplars',
  },
  {
    name: 'URI versioning, excluded from the global prefix',
    configure: (app) => app.setGlobalPrefix('api', { exclude: ['webhooks/keplars'] }).enableVersioning({ type: VersioningType.URI, defaultVersion: '3' }),
    path: '/v3/webhooks/keplars',
  },
  {
    name: 'header versioning',
    configure: (app) => app.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version', defaultVersion: '1' }),
    path: '/webhooks/keplars',
    headers: { 'x-api-version': '1' },
  },
  {
    name: 'media-type versioning',
    configure: (app) => app.enableVersioning({ type: VersioningType.MEDIA_TYPE, key: 'v=', defaultVersion: '1' }),
    path: '/webhooks/keplars',
    headers: { accept: 'application/json;v=1' },
  },
  { name: 'a RouterModule path under a global prefix', configure: (app) => app.setGlobalPrefix('api'), path: '/api/mail/webhooks/keplars', routerModule: true },
];

describe.each(ADAPTERS)('the webhook route reads its own body wherever Nest places it, on %s', (adapter) => {
  describe.each(PLACEMENTS)('$name', (placement) => {
    let app: INestApplication;

    beforeAll(async () => {
      const imports: (Type | ReturnType<typeof KeplarsWebhookModule.forRoot> | ReturnType<typeof RouterModule.register>)[] = [
        KeplarsWebhookModule.forRoot({ secret: SECRET, maxBodyBytes: 256 * 1024 }),
      ];
      if (placement.routerModule) imports.push(RouterModule.register([{ path: 'mail', module: KeplarsWebhookModule }]));
      app = await createWebhookApp({ adapter, imports, controllers: [NotesController], configure: placement.configure });
    });
    afterAll(() => app.close());

    const post = (payload: string | object, signed = true) =>
      postKeplarsEvent(app, payload, { secret: SECRET, path: placement.path, headers: placement.headers, ...(signed ? {} : { signature: false as const }) });

    it('takes a valid event', async () => {
      expect((await post(buildKeplarsPayload('email.opened'))).status).toBe(200);
    });

    it("answers a signed body that is not JSON itself (400 with the module's marker), an unsigned one 401", async () => {
      const response = await post(NOT_JSON);
      expect({ status: response.status, refused: response.headers['x-keplars-webhook-refused'] }).toEqual({ status: 400, refused: '1' });
      expect(response.body.message).toEqual([expect.stringMatching(/^the body is not valid JSON: /)]);
      expect((await post(NOT_JSON, false)).status).toBe(401);
    });

    it("holds a body to maxBodyBytes, not to the framework's own limit", async () => {
      expect((await post(LARGE_PAYLOAD)).status).toBe(200);
    });
  });
});
