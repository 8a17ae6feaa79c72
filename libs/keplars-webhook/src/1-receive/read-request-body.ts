import type { IncomingMessage } from 'node:http';

/** Thrown when a body is longer than the limit; the rest of it has been read off and dropped. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is over ${limit} bytes`);
  }
}

/**
 * Reads a request's whole body, exactly as sent, up to `limit` bytes. A longer one is read to its end
 * without being kept (as Express's body parser does, so the client gets the 413 instead of a reset
 * connection) and rejected with {@link BodyTooLargeError}; a declared length over the limit is
 * rejected the same way, without keeping a byte.
 */
export function readRequestBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = Number(request.headers['content-length']) > limit;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanUp();
      if (tooLarge) reject(new BodyTooLargeError(limit));
      else resolve(Buffer.concat(chunks, received));
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
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
