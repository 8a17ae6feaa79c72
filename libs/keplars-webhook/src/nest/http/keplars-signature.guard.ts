import {
  Inject,
  Injectable,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
  type HttpException,
} from '@nestjs/common';
import { RequestVerifier, type Refusal } from '../../core/1-verify/verify-request.js';
import { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';
import { TenantSecretCache } from '../../core/1-verify/tenant-secret-cache.js';
import type { DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { RefusalLog } from '../log/refusal-log.js';
import { KEPLARS_OPTIONS, KEPLARS_ROUTE, KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions, ResolvedRoute } from '../options/resolve-keplars-options.js';
import type { KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { refusal } from './webhook-response-headers.js';

/**
 * Lets a request through only if it carries a valid Keplars signature over its exact raw bytes: the
 * core's `RequestVerifier` decides, before the module parses or validates anything. A refusal
 * is a bare answer in Nest's error shape (401, 413, 415, or 503 when a tenant's secret cannot be
 * looked up), whose reason goes to the log (summarised in a flood), never to the caller. Every
 * refusal carries the module's marker header.
 */
@Injectable()
export class KeplarsSignatureGuard implements CanActivate {
  private readonly logger = new KeplarsLog();
  private readonly verifier: RequestVerifier;
  private readonly endpoint: string;
  private readonly tenantParameter: string | undefined;

  /** @internal Nest builds it, with the module's own providers; apps never call it. */
  constructor(
    @Inject(KEPLARS_OPTIONS) options: ResolvedKeplarsOptions,
    @Inject(KEPLARS_ROUTE) route: ResolvedRoute,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
    clocks: SignedDeliveryClock,
    private readonly refusals: RefusalLog,
  ) {
    this.endpoint = route.name;
    const tenants = options.tenants;
    this.tenantParameter = tenants?.parameter;
    this.verifier = new RequestVerifier({
      secrets: options.secrets,
      signatureHeader: options.signatureHeader,
      timestamp: options.timestamp,
      maxBodyBytes: options.maxBodyBytes,
      clock: clocks.endpoint(route.name),
      tenants:
        tenants &&
        new TenantSecretCache(tenants.resolveSecret, {
          ttlMs: tenants.cacheMs,
          maxTenants: tenants.maxCachedTenants,
          maxLookupsPerSecond: tenants.maxLookupsPerSecond,
          timeoutMs: tenants.timeoutMs,
        }),
    });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<KeplarsWebhookRequest>();
    const response: unknown = http.getResponse();
    this.telemetry.received(request, this.endpoint);
    const tenant = this.tenantParameter === undefined ? undefined : request.params?.[this.tenantParameter];
    const verified = this.verifier.verify(request, tenant);
    if (verified === undefined) return true;
    if (verified instanceof Promise) return verified.then((later) => later === undefined || this.refuse(request, response, later));
    return this.refuse(request, response, verified);
  }

  /** Answers the refusal (its status only), counts it, and logs why (a flood summarised). */
  private refuse(request: KeplarsWebhookRequest, response: unknown, refused: Refusal): never {
    this.telemetry.refused(request, refused.reason);
    if (refused.log === 'error') this.logger.error(refused.line(request.ip));
    else this.refusals.refused(refused.summary, request.ip, () => refused.line(request.ip));
    throw refusal(response, exceptionFor(refused.status));
  }
}

function exceptionFor(status: Refusal['status']): HttpException {
  switch (status) {
    case 401:
      return new UnauthorizedException();
    case 413:
      return new PayloadTooLargeException();
    case 415:
      return new UnsupportedMediaTypeException();
    case 503:
      return new ServiceUnavailableException();
  }
}
