import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Connect-style middleware, as Nest's MiddlewareConsumer applies it on Express. */
export type Middleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/**
 * HTTP basic authentication for one user. The browser asks for the user and password (the
 * `WWW-Authenticate` challenge); any other request is answered 401 before it reaches the dashboard.
 */
export function basicAuth(user: string, password: string, realm: string): Middleware {
  const expected = digest(`${user}:${password}`);
  return (request, response, next) => {
    if (matches(request.headers.authorization, expected)) return next();
    response.statusCode = 401;
    response.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    response.setHeader('Content-Type', 'text/plain; charset=utf-8');
    response.end('401: this dashboard needs its user and password.\n');
  };
}

function matches(header: string | undefined, expected: Buffer): boolean {
  const [scheme, encoded] = header?.split(' ') ?? [];
  if (scheme?.toLowerCase() !== 'basic' || !encoded) return false;
  // Compared as digests of equal length, so the time taken says nothing about the password.
  return timingSafeEqual(digest(Buffer.from(encoded, 'base64').toString('utf8')), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
