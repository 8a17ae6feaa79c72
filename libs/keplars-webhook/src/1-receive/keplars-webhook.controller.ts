import { applyDecorators, BadRequestException, Controller, HttpCode, Inject, Logger, Post, Req, UseGuards, type Type } from '@nestjs/common';
import { KeplarsSignatureGuard } from '../2-verify/keplars-signature.guard.js';
import { validateKeplarsPayload } from '../3-validate/validate-keplars-payload.js';
import { normalizeKeplarsPayload } from '../4-normalize/normalize-keplars-payload.js';
import { KeplarsEventDelivery } from '../6-dispatch/keplars-event-delivery.js';
import { answerDelivery, type KeplarsWebhookAnswer } from '../7-answer/answer-delivery.js';
import { LOG_CONTEXT } from '../module/keplars-webhook.constants.js';
import type { ResolvedRoute } from '../module/resolve-keplars-options.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../observe/delivery-telemetry.js';
import type { KeplarsWebhookRequest } from './keplars-webhook-request.js';

/**
 * The webhook route. Its path and decorators come from the module's options, so each import of the
 * module gets a controller class of its own.
 */
export function createKeplarsWebhookController(route: ResolvedRoute): Type<unknown> {
  @Controller()
  class KeplarsWebhookController {
    private readonly logger = new Logger(LOG_CONTEXT);

    constructor(
      private readonly delivery: KeplarsEventDelivery,
      @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
    ) {}

    /** One request's whole way through the module, step by step (SPEC §3). */
    @Post(route.path)
    @HttpCode(200)
    @UseGuards(KeplarsSignatureGuard) // 1-2. received, then verified: nothing below runs for an unsigned body
    @applyDecorators(...route.routeDecorators)
    async receive(@Req() request: KeplarsWebhookRequest): Promise<KeplarsWebhookAnswer> {
      const validation = validateKeplarsPayload(request.body); // 3. validated
      if (!validation.valid) {
        this.telemetry.refused(request, 'payload');
        this.logger.warn(`Rejected a signed webhook with an invalid payload (400): ${validation.messages.join('; ')}`);
        throw new BadRequestException(validation.messages);
      }
      const event = normalizeKeplarsPayload(validation.payload); // 4. normalised
      const outcome = await this.telemetry.deliver(request, event, () => this.delivery.deliver(event)); // 5-6. deduplicated, dispatched (and observed)
      return answerDelivery(outcome, event, this.logger); // 7. answered
    }
  }
  return KeplarsWebhookController;
}
