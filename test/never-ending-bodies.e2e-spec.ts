import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 23, point 7: a chunked body that never ends, on the webhook route. Express kept reading it,
// holding the first 100 kB, and answered 413 only at its end (never); it must answer 413 once the
// body passes the limit, and let go of what it read.
const CHUNK = Buffer.alloc(16 * 1024, 'x');
/** Ten times the most the module reads (100 kB on Express, Fastify's 1 MB bodyLimit otherwise). */
const GIVE_UP_AFTER = 10 * 1024 * 1024;

describe.each(ADAPTERS)('a chunked body that never ends, on %s', (adapter) => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot('whsec_never_ending')] });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('is answered 413 while it is still being sent', async () => {
    let response: IncomingMessage | undefined;
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/webhooks/keplars',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-keplars-signature': 'ab'.repeat(32) },
    });
    request.on('response', (answer) => {
      response = answer;
      answer.resume();
    });
    request.on('error', () => undefined); // the server may stop reading once it has answered
    request.flushHeaders();
    let sent = 0;
    while (response === undefined && sent < GIVE_UP_AFTER && !request.destroyed) {
      if (!request.write(CHUNK)) await new Promise((resolve) => request.once('drain', resolve));
      sent += CHUNK.length;
      await nextTurn();
    }
    const answeredWhileSending = response !== undefined;
    request.destroy();
    expect({ answeredWhileSending, status: response?.statusCode, refused: response?.headers['x-keplars-webhook-refused'] }).toEqual({
      answeredWhileSending: true,
      status: 413,
      refused: adapter === 'express' ? '1' : undefined,
    });
  }, 60_000);
});
