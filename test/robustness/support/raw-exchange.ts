import { connect } from 'node:net';

/** One HTTP/1.1 request written by hand, byte for byte, so headers can be repeated, wrong or missing. */
export interface RawRequest {
  /** Written in order (head and body, or the pieces of a chunked body). */
  readonly parts: readonly Buffer[];
  /** Close our side after writing (the server then sees the end of the stream, e.g. mid-body). */
  readonly halfClose?: boolean;
}

/** How one exchange ended: an answer, a close (or reset) without a full answer, or nothing in time. */
export type ExchangeOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  | { readonly kind: 'closed'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly detail: string };

export interface HeadOptions {
  readonly method?: string;
  readonly path?: string;
  /** Name/value pairs as written: repeats allowed, values in latin1 bytes. */
  readonly headers: readonly (readonly [string, string])[];
}

/** The request line and headers, ending with the blank line. */
export function requestHead({ method = 'POST', path = '/webhooks/keplars', headers }: HeadOptions): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A body in chunked transfer encoding, cut at the given sizes (the rest goes in one last chunk). */
export function chunkedBody(body: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const size of [...sizes, body.length]) {
    if (offset >= body.length) break;
    const piece = body.subarray(offset, Math.min(body.length, offset + Math.max(1, size)));
    offset += piece.length;
    chunks.push(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return chunks;
}

/**
 * Sends one request over a fresh TCP connection and reads the answer. Never rejects: a close, a reset
 * or silence past `timeoutMs` is an outcome to count, not an error.
 */
export function exchange(port: number, request: RawRequest, timeoutMs: number): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let socketError: string | undefined;
    let settled = false;
    const socket = connect({ port, host: '127.0.0.1' });
    const finish = (outcome: ExchangeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ kind: 'timeout', detail: `no complete answer within ${timeoutMs} ms (${Buffer.concat(received).length} bytes received)` }),
      timeoutMs,
    );

    socket.on('connect', () => {
      for (const part of request.parts) socket.write(part);
      if (request.halfClose) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const answer = parseResponse(Buffer.concat(received), false);
      if (answer) finish(answer);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError = error.code ?? error.message;
    });
    socket.on('close', () => {
      const bytes = Buffer.concat(received);
      finish(parseResponse(bytes, true) ?? { kind: 'closed', detail: `${socketError ?? 'closed'} after ${bytes.length} bytes of answer` });
    });
  });
}

/** The first final (non-1xx) answer in `bytes`, once complete; `ended`: no more bytes will come. */
function parseResponse(bytes: Buffer, ended: boolean): ExchangeOutcome | undefined {
  let rest = bytes;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const [statusLine = '', ...headerLines] = rest.subarray(0, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) return ended ? { kind: 'closed', detail: `unreadable answer: ${JSON.stringify(statusLine.slice(0, 80))}` } : undefined;
    rest = rest.subarray(headEnd + 4);
    if (status >= 100 && status < 200) continue; // 100 Continue: the real answer follows

    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const body = bodyOf(rest, headers, ended);
    return body === undefined ? undefined : { kind: 'response', status, headers, body: body.toString('utf8') };
  }
}

function bodyOf(rest: Buffer, headers: Record<string, string>, ended: boolean): Buffer | undefined {
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length >= length) return rest.subarray(0, length);
    return ended ? rest : undefined;
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const pieces: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', offset);
      if (lineEnd < 0) return ended ? Buffer.concat(pieces) : undefined;
      const size = parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16);
      if (size === 0) return Buffer.concat(pieces);
      if (!(size > 0) || rest.length < lineEnd + 2 + size + 2) return ended ? Buffer.concat(pieces) : undefined;
      pieces.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
  }
  return ended ? rest : undefined; // delimited by the close
}
