import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BodyTooLargeError, readRequestBody } from './read-request-body.js';

/** A request body that arrives chunk by chunk, as Node's HTTP parser hands it over. */
function incoming(headers: Record<string, string> = { 'transfer-encoding': 'chunked' }): IncomingMessage & PassThrough {
  return Object.assign(new PassThrough(), { headers }) as unknown as IncomingMessage & PassThrough;
}

describe('readRequestBody', () => {
  it('reads a body to its end, exactly as sent', async () => {
    const request = incoming();
    const read = readRequestBody(request, 10);
    request.write('{"a":');
    request.end('1}');
    expect((await read).toString()).toBe('{"a":1}');
  });

  // Issue 23, point 7: a chunked body that never ends used to be read on, its first `limit` bytes
  // kept, and answered only at its end (never).
  it('gives up as soon as a body passes the limit, without waiting for its end, and keeps none of it', async () => {
    const request = incoming();
    let settled: unknown;
    readRequestBody(request, 1024).then(
      () => (settled = 'read'),
      (error: unknown) => (settled = error),
    );
    for (let i = 0; i < 4; i++) {
      request.write(Buffer.alloc(512, 'x'));
      await nextTurn();
    }
    expect(settled).toBeInstanceOf(BodyTooLargeError);
    // No reader of its own is left on it (nothing is kept), and the rest still flows away unread.
    expect(request.listenerCount('data')).toBe(0);
    expect(request.readableFlowing).toBe(true);
    request.destroy();
  });

  it('gives up at once on a declared length over the limit', async () => {
    const request = incoming({ 'content-length': '5000' });
    let settled: unknown;
    readRequestBody(request, 1024).then(
      () => (settled = 'read'),
      (error: unknown) => (settled = error),
    );
    request.write(Buffer.alloc(512, 'x'));
    await nextTurn();
    expect(settled).toBeInstanceOf(BodyTooLargeError);
    expect(request.listenerCount('data')).toBe(0);
    request.destroy();
  });
});
