import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  PayloadTooLargeException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { isJsonRequest, type KeplarsWebhookRequest } from '../1-receive/keplars-webhook-request.js';
import { refusal } from '../1-receive/webhook-response-headers.js';
import { KEPLARS_OPTIONS, LOG_CONTEXT } from '../module/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions } from '../module/resolve-keplars-options.js';
import { RAW_BODY_FIX } from '../module/raw-body.check.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../observe/delivery-telemetry.js';
import { SignedDeliveryClock } from '../observe/signed-delivery-clock.js';
import { verifyKeplarsSignature, type SignatureRejection } from './keplars-signature.js';

const HINTS: Record<SignatureRejection, string> = {
  'signature header missing': 'was this request sent by Keplars?',
  'signature malformed': 'expected 64 hex characters, optionally prefixed "sha256="',
  'signature does not match':
    'if the secret was rotated in the Keplars dashboard, add the new one to "secret" (a list accepts both); also check nothing rewrites the body before Nest',
  'timestamp header missing': 'the timestamped scheme is on; turn it off if Keplars does not send the header',
  'timestamp malformed': 'expected Unix seconds',
  'timestamp outside tolerance': "a replay, or this server's clock is off (check NTP)",
};

/**
 * Lets a request through only if it carries a valid Keplars signature over its exact raw bytes. It
 * runs before the module parses or validates anything; a refusal is a bare 401 in Nest's error shape,
 * whose reason goes to the log, never to the caller. Every refusal carries the module's marker header.
 */
@Injectable()
export class KeplarsSignatureGuard implements CanActivate {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
    private readonly clock: SignedDeliveryClock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<KeplarsWebhookRequest>();
    const { rawBody } = request;
    this.telemetry.received(request);
    if (!isJsonRequest(request)) {
      this.telemetry.refused(request, 'content_type');
      this.logger.warn(`Rejected a webhook from ${request.ip}: Content-Type is ${JSON.stringify(request.headers['content-type'] ?? 'missing')}, not application/json (415).`);
      throw refusal(http.getResponse(), new UnsupportedMediaTypeException());
    }
    if (rawBody === undefined) {
      this.logger.error(`Cannot verify webhooks: the request has no raw body. ${RAW_BODY_FIX}`);
      throw refusal(http.getResponse(), new InternalServerErrorException());
    }
    if (rawBody.length > this.options.maxBodyBytes) {
      this.telemetry.refused(request, 'size');
      this.logger.warn(`Rejected a webhook from ${request.ip}: its body of ${rawBody.length} bytes is over maxBodyBytes (${this.options.maxBodyBytes}) (413).`);
      throw refusal(http.getResponse(), new PayloadTooLargeException());
    }

    const { signatureHeader, timestamp } = this.options;
    const rejection = verifyKeplarsSignature({
      rawBody,
      signature: request.headers[signatureHeader],
      secrets: this.options.secrets,
      timestamp: timestamp && { value: request.headers[timestamp.header], toleranceSeconds: timestamp.toleranceSeconds },
    });
    if (rejection !== undefined) {
      this.telemetry.refused(request, rejection.startsWith('timestamp') ? 'timestamp' : 'signature');
      this.logger.warn(`Rejected a webhook from ${request.ip}: ${rejection} (${HINTS[rejection]}) (401).`);
      throw refusal(http.getResponse(), new UnauthorizedException());
    }
    this.clock.signed();
    return true;
  }
}
