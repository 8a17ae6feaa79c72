import { applyDecorators, Controller, HttpCode, Inject, NotFoundException, Optional, Post, Req, Res, UseGuards, type Type } from '@nestjs/common';
import type { KeplarsEvent, KeplarsEventSource } from '../../core/0-event/keplars-event.js';
import type { DeliveryOutcome } from '../../core/0-event/delivery-outcome.js';
import { readKeplarsEvent } from '../../core/3-normalize/read-keplars-event.js';
import { KeplarsEventDelivery } from '../../core/4-deliver/keplars-event-delivery.js';
import { countListeners } from '../../core/4-deliver/keplars-handler-registry.js';
import { writeDown } from '../../core/4-deliver/write-down.js';
import { answerDelivery, answerQueueWrite, answerUnreadable, type KeplarsWebhookAnswer } from '../../core/5-answer/answer-delivery.js';
import { HANDLERS_HEADER } from '../../core/5-answer/answer-headers.js';
import type { DeliveryQueue } from '../../core/ports/delivery-queue.js';
import type { DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KEPLARS_DELIVERY_QUEUE, KEPLARS_OPTIONS, KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions, ResolvedRoute } from '../options/resolve-keplars-options.js';
import { KeplarsSignatureGuard } from './keplars-signature.guard.js';
import type { KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { MarkKeplarsRoute } from './keplars-route-mark.js';
import { httpAnswer, setResponseHeader } from './webhook-response-headers.js';

/**
 * The webhook route. Its path and decorators come from the module's options, so each import of the
 * module gets a controller class of its own. It holds no delivery logic: it hands the request to the
 * core's steps (read, then deliver inline or write down for a worker, then answer) and gives their
 * answer back the way Nest answers.
 */
export function createKeplarsWebhookController(route: ResolvedRoute): Type<unknown> {
  @Controller()
  class KeplarsWebhookController {
    private readonly logger = new KeplarsLog();
    /** Read once: the handler count is for the app's developer, not for the world. */
    private readonly tellsHandlerCount = process.env.NODE_ENV !== 'production';
    private readonly endpoint = route.name;
    /** Where every event of this route comes from, without tenants: one object, not one per request. */
    private readonly source: KeplarsEventSource = Object.freeze({ endpoint: route.name });
    private readonly tenantParameter: string | undefined;
    private readonly queued: boolean;

    constructor(
      private readonly delivery: KeplarsEventDelivery,
      @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
      @Inject(KEPLARS_OPTIONS) options: ResolvedKeplarsOptions,
      @Optional() @Inject(KEPLARS_DELIVERY_QUEUE) private readonly queue?: DeliveryQueue,
    ) {
      this.tenantParameter = options.tenants?.parameter;
      this.queued = options.queue !== undefined;
    }

    /** One request's whole way through the module, step by step (SPEC §3); in queue mode, its first half (SPEC §4a). */
    @Post(route.path)
    @HttpCode(200)
    @UseGuards(KeplarsSignatureGuard) // received, then verified: nothing below runs for an unsigned body
    @MarkKeplarsRoute(route.name) // lets the module read its body (WebhookRouteBody), and a Fastify hook refuse an encoded one first (BodyEncodingCheck)
    @applyDecorators(...route.routeDecorators)
    receive(@Req() request: KeplarsWebhookRequest, @Res({ passthrough: true }) response: unknown): KeplarsWebhookAnswer | Promise<KeplarsWebhookAnswer> {
      if (this.queued) return this.writeDown(request, response);
      const read = readKeplarsEvent(request.body, this.sourceOf(request)); // read: validated, normalised, marked with its endpoint (and tenant)
      if (read.event === undefined) {
        this.telemetry.refused(request, 'payload');
        return httpAnswer(answerUnreadable(read.unreadable, this.logger), response);
      }
      const event = read.event;
      // Delivered: deduplicated, dispatched (and observed); at once when nothing had to wait (the memory
      // store, handlers that return at once), so the usual request takes no promise of the module's.
      const delivered = this.telemetry.deliver(request, event, () => this.delivery.deliver(event));
      return delivered instanceof Promise ? delivered.then((outcome) => this.answer(outcome, event, response)) : this.answer(delivered, event, response);
    }

    /** Answered: 200, or the refusal thrown as Nest's exception (its log lines carry the event's fields). */
    private answer(outcome: DeliveryOutcome, event: KeplarsEvent, response: unknown): KeplarsWebhookAnswer {
      if (this.tellsHandlerCount) {
        if (outcome.kind === 'handled') setResponseHeader(response, HANDLERS_HEADER, String(countListeners(outcome.ran, event.type)));
        else if (outcome.kind === 'no-handler') setResponseHeader(response, HANDLERS_HEADER, '0');
      }
      return httpAnswer(answerDelivery(outcome, event, this.logger), response);
    }

    /**
     * Queue mode: the request, verified, is read the same way (for the event id that keeps a
     * redelivery from being queued twice), then written down whole; a worker walks the rest of the
     * way from the same bytes.
     */
    private async writeDown(request: KeplarsWebhookRequest, response: unknown): Promise<KeplarsWebhookAnswer> {
      if (!this.queue) throw new NotFoundException(); // role 'process': this app runs no route
      const receivedAt = Date.now();
      const source = this.sourceOf(request);
      const read = readKeplarsEvent(request.body, source, new Date(receivedAt));
      const verified = { rawBody: request.rawBody!, headers: request.headers, traceparent: this.telemetry.traceparent(request) };
      const outcome = await writeDown(this.queue, verified, read, source, receivedAt); // written down
      this.telemetry.written(request, read.event, outcome.kind); // (observed)
      return httpAnswer(answerQueueWrite(outcome, read.event, this.logger), response); // answered (its log lines carry the event's fields)
    }

    private sourceOf(request: KeplarsWebhookRequest): KeplarsEventSource {
      if (this.tenantParameter === undefined) return this.source;
      return { endpoint: this.endpoint, tenant: request.params?.[this.tenantParameter] };
    }
  }
  return KeplarsWebhookController;
}
