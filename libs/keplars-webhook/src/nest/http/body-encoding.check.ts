import { Inject, Injectable } from '@nestjs/common';
import { RefusalLog } from '../log/refusal-log.js';
import { type DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { type KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { REFUSED_HEADER } from '../../core/5-answer/answer-headers.js';
import { KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import { unsupportedBodyEncoding } from '../../core/1-verify/verify-request.js';

/**
 * Fastify parses a body before any guard runs, so a gzip body or a UTF-16 one used to be answered 400
 * by its JSON parser, and a latin1 one read as UTF-8. This refuses them on the webhook route with
 * 415 before the body is read, the answer the signature guard gives. `WebhookRouteBody` calls it
 * first, from the webhook route's `onRequest` hook on Fastify and from its body reader on Express.
 */
@Injectable()
export class BodyEncodingCheck {
  constructor(
    private readonly refusals: RefusalLog,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
  ) {}

  /** Whether the request's body is in an encoding the module refuses; if so, it has been answered 415. */
  refuses(request: KeplarsWebhookRequest, reply: FastifyReplyLike): boolean {
    if (!this.refused(request)) return false;
    reply.code(415).header(REFUSED_HEADER, '1').send({ statusCode: 415, message: 'Unsupported Media Type' });
    return true;
  }

  /**
   * Whether the request's body is in an encoding the module refuses; if so, it has been counted and
   * logged, and the caller answers 415 (on Express, before Express's parser can answer it 400 or 415
   * of its own: an empty gzip body, bytes that are not gzip, an encoding it does not know).
   */
  refused(request: KeplarsWebhookRequest): boolean {
    const problem = unsupportedBodyEncoding(request.headers);
    if (problem === undefined) return false;
    this.telemetry.received(request);
    this.telemetry.refused(request, 'content_type');
    this.refusals.refused('with an unsupported encoding (415)', request.ip, () => `Rejected a webhook from ${request.ip}: ${problem} (415).`);
    return true;
  }
}

export interface FastifyReplyLike {
  code(status: number): { header(name: string, value: string): { send(body: unknown): unknown } };
}
