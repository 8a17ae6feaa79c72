import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, signKeplarsPayload } from 'nestjs-keplars-webhook/testing';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { exchange, requestHead, type ExchangeOutcome } from './robustness/support/raw-exchange.js';
import { CapturedLogs } from './support/captured-logs.js';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 10, points 6 and 7: bodies the module cannot verify as sent get the same clear answer on
// Express and Fastify. An empty body is unsigned input like any other (401, never a 500 that blames
// the app's setup); a body in a content encoding or a charset other than identity / UTF-8 is 415
// before anything reads it (Express used to verify the decompressed bytes, Fastify to answer 400,
// and latin1 was silently read as UTF-8 on Fastify).
const SECRET = 'whsec_encoding';

describe.each(ADAPTERS)('bodies the module cannot verify as sent, on %s', (adapter) => {
  let app: INestApplication;
  let port: number;
  let handlers: RecordingHandlers;
  const logs = new CapturedLogs();

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [RecordingHandlers], logger: logs });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    handlers = app.get(RecordingHandlers);
  });
  afterAll(() => app.close());

  /** Posts the bytes with the given headers (a valid signature over them unless one is given). */
  const post = (body: Buffer, headers: [string, string][], signature: string | false = signKeplarsPayload(body, SECRET)) =>
    exchange(port, { parts: [requestHead({ headers: [['host', 'localhost'], ...headers, ...(signature === false ? [] : [['x-keplars-signature', signature] as [string, string]])] }), body] }, 5_000);
  const statusOf = (outcome: ExchangeOutcome) => (outcome.kind === 'response' ? outcome.status : outcome.kind);

  // The module reads its route's body itself (issue 12), so an empty body is unsigned input on both
  // adapters (Fastify's own JSON parser used to answer it 400 first).
  const emptyBodyAnswer = { statusCode: 401, message: 'Unauthorized' };

  describe('an empty body is refused like any unsigned input, and the log does not blame the app (point 6)', () => {
    const empty = Buffer.alloc(0);
    it.each([
      ['without Content-Length', [['content-type', 'application/json']]],
      ['with Content-Length: 0', [['content-type', 'application/json'], ['content-length', '0']]],
      ['with Content-Length: 0, charset=utf-8', [['content-type', 'application/json; charset=utf-8'], ['content-length', '0']]],
    ] as [string, [string, string][]][])('%s', async (_, headers) => {
      const mark = logs.mark();
      for (const signature of [false, 'sha256=' + 'ab'.repeat(32)] as const) {
        const outcome = await post(empty, [...headers, ['connection', 'close']], signature);
        expect(statusOf(outcome)).toBe(emptyBodyAnswer.statusCode);
        expect(outcome.kind === 'response' && JSON.parse(outcome.body)).toMatchObject(emptyBodyAnswer);
      }
      const lines = logs.since(mark);
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
      expect(lines.map((line) => line.message).join('\n')).not.toMatch(/rawBody|raw body/);
      expect(handlers.runs()).toBe(0);
    });
  });

  describe('a body in another content encoding or charset is 415, whatever its signature (point 7)', () => {
    const json = JSON.stringify(buildKeplarsPayload('email.opened', { subject: 'Grüße' }));
    const utf8 = Buffer.from(json);
    const cases: [string, Buffer, [string, string][]][] = [
      ['Content-Encoding: gzip', gzipSync(utf8), [['content-encoding', 'gzip']]],
      ['Content-Encoding: deflate', deflateSync(utf8), [['content-encoding', 'deflate']]],
      ['Content-Encoding: br', brotliCompressSync(utf8), [['content-encoding', 'br']]],
      ['Content-Encoding: gzip, identity', gzipSync(utf8), [['content-encoding', 'gzip, identity']]],
      ['charset=utf-16le', Buffer.from(json, 'utf16le'), [['content-type', 'application/json; charset=utf-16le']]],
      ['charset=latin1', Buffer.from(json, 'latin1'), [['content-type', 'application/json; charset=latin1']]],
      ['charset=iso-8859-1', Buffer.from(json, 'latin1'), [['content-type', 'application/json; charset="ISO-8859-1"']]],
    ];
    it.each(cases)('%s', async (_, body, headers) => {
      const contentType = headers.some(([name]) => name === 'content-type') ? [] : [['content-type', 'application/json'] as [string, string]];
      const withLength: [string, string][] = [...contentType, ...headers, ['content-length', String(body.length)], ['connection', 'close']];
      // Signed over the bytes sent, and over the decoded text: neither gets in.
      for (const signature of [signKeplarsPayload(body, SECRET), signKeplarsPayload(utf8, SECRET)]) {
        const outcome = await post(body, withLength, signature);
        expect(statusOf(outcome)).toBe(415);
        expect(outcome.kind === 'response' && JSON.parse(outcome.body)).toMatchObject({ statusCode: 415 });
      }
      expect(handlers.runs()).toBe(0);
    });

    // Issue 23, point 8: Express's parser used to answer these first (400), before the module's 415.
    it.each([
      ['Content-Encoding: gzip with Content-Length: 0', Buffer.alloc(0), [['content-encoding', 'gzip']]],
      ['Content-Encoding: gzip over bytes that are not gzip', utf8, [['content-encoding', 'gzip']]],
      ['Content-Encoding: compress (no one decodes it)', utf8, [['content-encoding', 'compress']]],
    ] as [string, Buffer, [string, string][]][])('%s is the module\'s 415, with its marker', async (_, body, headers) => {
      const outcome = await post(body, [['content-type', 'application/json'], ...headers, ['content-length', String(body.length)], ['connection', 'close']]);
      expect(outcome.kind === 'response' && { status: outcome.status, refused: outcome.headers['x-keplars-webhook-refused'] }).toEqual({ status: 415, refused: '1' });
      expect(handlers.runs()).toBe(0);
    });

    it.each([
      ['Content-Encoding: identity', [['content-type', 'application/json'], ['content-encoding', 'identity']]],
      ['charset=utf-8', [['content-type', 'application/json; charset=utf-8']]],
      ['charset="UTF-8"', [['content-type', 'application/json; charset="UTF-8"']]],
    ] as [string, [string, string][]][])('%s is accepted', async (_, headers) => {
      const body = Buffer.from(JSON.stringify(buildKeplarsPayload('email.opened')));
      const outcome = await post(body, [...headers, ['content-length', String(body.length)], ['connection', 'close']]);
      expect(statusOf(outcome)).toBe(200);
    });
  });
});
