import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RefusalLog } from '../log/refusal-log.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../observe/delivery-telemetry.js';
import { KEPLARS_ROUTE_CONFIG_KEY, KEPLARS_ROUTE_MARK } from './keplars-route-mark.js';
import { unsupportedBodyEncoding, type KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { REFUSED_HEADER } from './webhook-response-headers.js';

/**
 * Fastify parses a body before any guard runs, so a gzip body or a UTF-16 one used to be answered 400
 * by its JSON parser, and a latin1 one read as UTF-8. This refuses them on the webhook route with
 * 415 before the body is read, the answer the signature guard gives on Express. (On Express the
 * guard alone does it: nothing there depends on the parser.)
 */
@Injectable()
export class BodyEncodingCheck implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly refusals: RefusalLog,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') return;
    const fastify = adapter.getInstance() as FastifyLike;
    fastify.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions?.config?.[KEPLARS_ROUTE_CONFIG_KEY] !== KEPLARS_ROUTE_MARK) return;
      const problem = unsupportedBodyEncoding(request.headers);
      if (problem === undefined) return;
      this.telemetry.received(request);
      this.telemetry.refused(request, 'content_type');
      this.refusals.refused('with an unsupported encoding (415)', request.ip, () => `Rejected a webhook from ${request.ip}: ${problem} (415).`);
      return reply.code(415).header(REFUSED_HEADER, '1').send({ statusCode: 415, message: 'Unsupported Media Type' });
    });
  }
}

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: KeplarsWebhookRequest & { readonly routeOptions?: { readonly config?: Record<string, unknown> } },
      reply: { code(status: number): { header(name: string, value: string): { send(body: unknown): unknown } } },
    ) => Promise<unknown>,
  ): void;
}
