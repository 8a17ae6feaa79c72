import {
  applyDecorators,
  BadRequestException,
  Controller,
  HttpCode,
  Inject,
  NotFoundException,
  Optional,
  Post,
  Req,
  Res,
  UseGuards,
  type Type,
} from '@nestjs/common';
import { KeplarsSignatureGuard } from './keplars-signature.guard.js';
import { validateKeplarsPayload } from '../../core/2-read/validate-keplars-payload.js';
import { normalizeKeplarsPayload } from '../../core/3-normalize/normalize-keplars-payload.js';
import { keplarsEventKey } from '../../core/4-deliver/event-key.js';
import type { KeplarsEvent } from '../../core/0-event/keplars-event.js';
import { KeplarsEventDelivery } from '../../core/4-deliver/keplars-event-delivery.js';
import { answerDelivery, answerQueueWrite, type KeplarsWebhookAnswer, type QueueWriteOutcome } from '../../core/5-answer/answer-delivery.js';
import { countListeners } from '../../core/4-deliver/keplars-handler-registry.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KEPLARS_OPTIONS } from '../options/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions, ResolvedRoute } from '../options/resolve-keplars-options.js';
import { deliveryJobId, KeplarsDeliveryQueue, UNREADABLE_JOB_NAME, unreadableJobId } from '../../adapters/bullmq-queue/keplars-delivery-queue.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import type { KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { MarkKeplarsRoute } from './keplars-route-mark.js';
import { recordDelivery, type QueuedDelivery } from '../../core/ports/queued-delivery.js';
import { HANDLERS_HEADER, refusal, setResponseHeader } from './webhook-response-headers.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The webhook route. Its path and decorators come from the module's options, so each import of the
 * module gets a controller class of its own.
 */
export function createKeplarsWebhookController(route: ResolvedRoute): Type<unknown> {
  @Controller()
  class KeplarsWebhookController {
    private readonly logger = new KeplarsLog();
    /** Read once: the handler count is for the app's developer, not for the world. */
    private readonly tellsHandlerCount = process.env.NODE_ENV !== 'production';
    private readonly endpoint = route.name;
    private readonly tenantParameter: string | undefined;

    constructor(
      private readonly delivery: KeplarsEventDelivery,
      @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
      @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
      @Optional() private readonly queue?: KeplarsDeliveryQueue,
    ) {
      this.tenantParameter = options.tenants?.parameter;
    }

    /** One request's whole way through the module, step by step (SPEC §3); in queue mode, its first half (SPEC §4a). */
    @Post(route.path)
    @HttpCode(200)
    @UseGuards(KeplarsSignatureGuard) // 1-2. received, then verified: nothing below runs for an unsigned body
    @MarkKeplarsRoute(route.name) // lets the module read its body (WebhookRouteBody), and a Fastify hook refuse an encoded one first (BodyEncodingCheck)
    @applyDecorators(...route.routeDecorators)
    async receive(@Req() request: KeplarsWebhookRequest, @Res({ passthrough: true }) response: unknown): Promise<KeplarsWebhookAnswer> {
      if (this.options.queue) return this.writeDown(request, response);
      const validation = validateKeplarsPayload(request.body); // 3. validated
      if (!validation.valid) {
        this.telemetry.refused(request, 'payload');
        this.logger.warn(`Rejected a signed webhook with an invalid payload (400): ${validation.messages.join('; ')}`);
        throw refusal(response, new BadRequestException(validation.messages));
      }
      // 4. normalised, and marked with the endpoint (and tenant) that received it
      const event = normalizeKeplarsPayload(validation.payload, undefined, { endpoint: this.endpoint, tenant: this.tenantOf(request) });
      const outcome = await this.telemetry.deliver(request, event, () => this.delivery.deliver(event)); // 5-6. deduplicated, dispatched (and observed)
      if (this.tellsHandlerCount) {
        if (outcome.kind === 'handled') setResponseHeader(response, HANDLERS_HEADER, String(countListeners(outcome.ran, event.type)));
        else if (outcome.kind === 'no-handler') setResponseHeader(response, HANDLERS_HEADER, '0');
      }
      try {
        return answerDelivery(outcome, event, this.logger.about(event)); // 7. answered (its log lines carry the event's fields)
      } catch (exception) {
        throw refusal(response, exception as Error);
      }
    }

    /**
     * Queue mode: the request, verified, is written down whole; a worker walks the rest of the way
     * from the same bytes. It is read here too, for the event id that keeps a redelivery from being
     * queued twice, and so a body the module cannot read is kept apart (nothing signed is dropped).
     */
    private async writeDown(request: KeplarsWebhookRequest, response: unknown): Promise<KeplarsWebhookAnswer> {
      if (!this.queue) throw new NotFoundException(); // role 'process': this app runs no route
      try {
        return await this.writeDownVerified(request, this.queue);
      } catch (exception) {
        throw refusal(response, exception as Error);
      }
    }

    private async writeDownVerified(request: KeplarsWebhookRequest, queue: KeplarsDeliveryQueue): Promise<KeplarsWebhookAnswer> {
      const traceparent = this.telemetry.traceparent(request);
      const tenant = this.tenantOf(request);
      const receivedAt = Date.now();
      const validation = validateKeplarsPayload(request.body); // 3. validated
      if (!validation.valid) {
        const unreadable = { ...this.recorded(request, queue, receivedAt, tenant, traceparent), unreadable: validation.messages };
        const written = await this.write(unreadable, unreadableJobId(request.rawBody!), UNREADABLE_JOB_NAME);
        const outcome: QueueWriteOutcome = written.kind === 'queue-unavailable' ? written : { kind: 'quarantined', messages: validation.messages };
        this.telemetry.written(request, undefined, outcome.kind);
        return answerQueueWrite(outcome, undefined, this.logger);
      }
      // 4. normalised (for its id)
      const event = normalizeKeplarsPayload(validation.payload, new Date(receivedAt), { endpoint: this.endpoint, tenant });
      // One job per event and endpoint (and tenant): the same id from two accounts is two jobs.
      const delivery = this.recorded(request, queue, receivedAt, tenant, traceparent, event);
      const outcome = await this.write(delivery, deliveryJobId(keplarsEventKey(event, event.id)), event.type); // written down
      this.telemetry.written(request, event, outcome.kind); // (observed)
      return answerQueueWrite(outcome, event, this.logger); // answered (its log lines carry the event's fields)
    }

    /** The delivery as the queue keeps it, built in one go (it is built for every request). */
    private recorded(
      request: KeplarsWebhookRequest,
      queue: KeplarsDeliveryQueue,
      receivedAt: number,
      tenant: string | undefined,
      traceparent: string | undefined,
      event?: Pick<KeplarsEvent, 'id' | 'type'>,
    ): QueuedDelivery {
      const delivery: Mutable<QueuedDelivery> = recordDelivery(request.rawBody!, request.headers, queue.headerNames, receivedAt);
      delivery.endpoint = this.endpoint;
      if (tenant !== undefined) delivery.tenant = tenant;
      if (traceparent) delivery.traceparent = traceparent;
      if (event !== undefined) {
        delivery.eventId = event.id;
        delivery.type = event.type;
      }
      return delivery;
    }

    private tenantOf(request: KeplarsWebhookRequest): string | undefined {
      return this.tenantParameter === undefined ? undefined : request.params?.[this.tenantParameter];
    }

    private async write(...args: Parameters<KeplarsDeliveryQueue['write']>): Promise<QueueWriteOutcome> {
      try {
        return { kind: await this.queue!.write(...args) };
      } catch (error) {
        return { kind: 'queue-unavailable', error };
      }
    }
  }
  return KeplarsWebhookController;
}
