import type { IncomingMessage } from 'node:http';

/** Thrown when a body is longer than the limit; nothing of it is kept, and the rest flows away unread. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is over ${limit} bytes`);
  }
}

/**
 * Reads a request's whole body, exactly as sent, up to `limit` bytes. A longer one (or one whose
 * declared length is longer) is rejected with {@link BodyTooLargeError} as soon as that is known,
 * without waiting for its end (a chunked body may never end): what was read is let go at once, and
 * the rest is left flowing, unread and unkept, so the client still gets its 413 instead of a reset
 * connection.
 */
export function readRequestBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    const tooLarge = () => {
      cleanUp();
      chunks = []; // nothing of it is kept
      request.resume(); // the rest flows away unread
      reject(new BodyTooLargeError(limit));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) tooLarge();
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanUp();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const cleanUp = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    if (Number(request.headers['content-length']) > limit) return tooLarge();
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
