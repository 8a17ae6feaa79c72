import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardGate } from './dashboard-gate.js';

type Next = (error?: unknown) => void;
type Handler = (request: IncomingMessage & { originalUrl?: string }, response: ServerResponse, next: Next) => void;

/** The part of an Express app the dashboard uses. */
export interface ExpressAppLike {
  use(path: string, ...handlers: unknown[]): unknown;
}

/**
 * Serves bull-board's Express router at `path`, behind the gate. Mounted with `app.use(path)`, so the
 * router sees paths relative to it; the gate sees the full URL.
 */
export function mountOnExpress(app: ExpressAppLike, path: string, gate: DashboardGate, router: unknown): void {
  const guard: Handler = (request, response, next) => {
    gate.check(request, request.originalUrl ?? request.url ?? '').then((refused) => {
      if (!refused) return next();
      response.writeHead(refused.status, refused.headers);
      response.end(refused.body);
    }, next);
  };
  app.use(path, guard, router);
}
