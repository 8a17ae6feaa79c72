import type { IncomingMessage } from 'node:http';
import type { DashboardGate } from './dashboard-gate.js';

interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly url: string;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Readonly<Record<string, string>>): FastifyReplyLike;
  send(body: string): FastifyReplyLike;
}
type Plugin = (instance: never, options: never, done: (error?: Error) => void) => void;

/** The part of a Fastify instance the dashboard uses. */
export interface FastifyLike {
  register(plugin: ((scope: FastifyLike) => Promise<void>) | Plugin, options?: { prefix?: string }): PromiseLike<unknown>;
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * Registers bull-board's Fastify plugin at `path`, in a scope of its own whose `onRequest` hook is the
 * gate: every route of the plugin (pages, scripts, API) runs it, and no other route of the app does.
 * Awaited, so a plugin that cannot load stops the app's startup.
 */
export async function mountOnFastify(fastify: FastifyLike, path: string, gate: DashboardGate, plugin: Plugin): Promise<void> {
  await fastify.register(
    async (scope: FastifyLike) => {
      scope.addHook('onRequest', async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
        const refused = await gate.check(request.raw, request.url);
        if (refused) return reply.code(refused.status).headers(refused.headers).send(refused.body);
        return undefined;
      });
      await scope.register(plugin);
    },
    { prefix: path },
  );
}
