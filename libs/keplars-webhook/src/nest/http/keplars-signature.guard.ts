import {
  Inject,
  Injectable,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { declaresBody, isJsonRequest, unsupportedBodyEncoding, type KeplarsWebhookRequest } from './keplars-webhook-request.js';
import { refusal } from './webhook-response-headers.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { RefusalLog } from '../log/refusal-log.js';
import { KEPLARS_OPTIONS, KEPLARS_ROUTE, KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions, ResolvedRoute } from '../options/resolve-keplars-options.js';
import { type DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { SignedDeliveryClock, type EndpointClock } from '../../core/1-verify/signed-delivery-clock.js';
import { randomBytes } from 'node:crypto';
import { matchesAnySecret, readKeplarsSignature, type ReadSignature, type SignatureRejection } from '../../core/1-verify/keplars-signature.js';
import { TenantLookupsThrottledError, TenantSecretCache } from '../../core/1-verify/tenant-secret-cache.js';

/** Longer tenants are not looked up at all: no real one is, and the cache keeps its keys. */
const MAX_TENANT_LENGTH = 256;
const NO_SECRETS: readonly string[] = Object.freeze([]);

const HINTS: Record<SignatureRejection, string> = {
  'signature header missing': 'was this request sent by Keplars?',
  'signature malformed': 'expected 64 hex characters, optionally prefixed "sha256="',
  'signature does not match':
    'if the secret was rotated in the Keplars dashboard, add the new one to "secret" (a list accepts both); also check nothing rewrites the body before Nest',
  'timestamp header missing': 'the timestamped scheme is on; turn it off if Keplars does not send the header',
  'timestamp malformed': 'expected Unix seconds',
  'timestamp outside tolerance': "a replay, or this server's clock is off (check NTP)",
};

/** How a refusal of each kind is counted when a flood is summarised. */
const SUMMARY_REASONS: Record<SignatureRejection, string> = {
  'signature header missing': 'without a signature (401)',
  'signature malformed': 'with a malformed signature (401)',
  'signature does not match': 'with a signature that does not match (401)',
  'timestamp header missing': 'without a timestamp (401)',
  'timestamp malformed': 'with a malformed timestamp (401)',
  'timestamp outside tolerance': 'with a timestamp outside the tolerance (401)',
};

const NO_BYTES = Buffer.alloc(0);

/**
 * Lets a request through only if it carries a valid Keplars signature over its exact raw bytes. It
 * runs before the module parses or validates anything; a refusal is a bare 401 in Nest's error shape,
 * whose reason goes to the log (summarised in a flood), never to the caller. Every refusal carries the module's marker header.
 *
 * On a route with `tenants`, the secrets are the tenant's, looked up (and cached) per request once the
 * header is known to be well formed. An unknown tenant is refused exactly like a wrong signature: same
 * answer, and the same work (an HMAC with a decoy secret), so neither tells whether the tenant exists.
 * A lookup that fails is answered 503, so Keplars retries.
 */
@Injectable()
export class KeplarsSignatureGuard implements CanActivate {
  private readonly logger = new KeplarsLog();

  private readonly tenants: TenantSecretCache | undefined;
  /** What an unknown tenant's request is checked against: a secret no one has, so it never matches. */
  private readonly decoySecrets: readonly string[] = [randomBytes(32).toString('hex')];
  private readonly endpoint: string;
  /** This endpoint's time of its last signed delivery (the health check and the age gauge read it). */
  private readonly clock: EndpointClock;

  /** @internal Nest builds it, with the module's own providers; apps never call it. */
  constructor(
    @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
    @Inject(KEPLARS_ROUTE) route: ResolvedRoute,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
    clocks: SignedDeliveryClock,
    private readonly refusals: RefusalLog,
  ) {
    this.endpoint = route.name;
    this.clock = clocks.endpoint(route.name);
    const tenants = options.tenants;
    this.tenants =
      tenants &&
      new TenantSecretCache(tenants.resolveSecret, {
        ttlMs: tenants.cacheMs,
        maxTenants: tenants.maxCachedTenants,
        maxLookupsPerSecond: tenants.maxLookupsPerSecond,
        timeoutMs: tenants.timeoutMs,
      });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<KeplarsWebhookRequest>();
    const response: unknown = http.getResponse();
    this.telemetry.received(request, this.endpoint);
    if (!isJsonRequest(request)) {
      this.telemetry.refused(request, 'content_type');
      this.refusals.refused('with another Content-Type (415)', request.ip, () =>
        `Rejected a webhook from ${request.ip}: Content-Type is ${JSON.stringify(request.headers['content-type'] ?? 'missing')}, not application/json (415).`,
      );
      throw refusal(response, new UnsupportedMediaTypeException());
    }
    const encoding = unsupportedBodyEncoding(request.headers);
    if (encoding !== undefined) {
      this.telemetry.refused(request, 'content_type');
      this.refusals.refused('with an unsupported encoding (415)', request.ip, () => `Rejected a webhook from ${request.ip}: ${encoding} (415).`);
      throw refusal(response, new UnsupportedMediaTypeException());
    }
    // No raw bytes: an empty body (Express's parser skips it), unsigned input like any other. (A body
    // the parser read without keeping its bytes is what the startup check refuses; if it could not
    // check, such a body fails the signature here too, and its log line says so.)
    const rawBody = request.rawBody ?? NO_BYTES;
    if (rawBody.length > this.options.maxBodyBytes) {
      this.telemetry.refused(request, 'size');
      this.refusals.refused('over maxBodyBytes (413)', request.ip, () =>
        `Rejected a webhook from ${request.ip}: its body of ${rawBody.length} bytes is over maxBodyBytes (${this.options.maxBodyBytes}) (413).`,
      );
      throw refusal(response, new PayloadTooLargeException());
    }

    const { signatureHeader, timestamp } = this.options;
    const signed = readKeplarsSignature({
      rawBody,
      signature: request.headers[signatureHeader],
      timestamp: timestamp && { value: request.headers[timestamp.header], toleranceSeconds: timestamp.toleranceSeconds },
    });
    if ('rejection' in signed) this.refuse(request, response, signed.rejection);
    if (this.tenants === undefined) {
      if (!matchesAnySecret(signed, rawBody, this.options.secrets)) this.refuse(request, response, 'signature does not match');
      this.clock.signed();
      return true;
    }

    const tenant = request.params?.[this.options.tenants!.parameter];
    if (tenant === undefined || tenant === '' || tenant.length > MAX_TENANT_LENGTH) return this.verifyForTenant(request, response, signed, String(tenant), NO_SECRETS);
    const cached = this.tenants.cached(tenant); // the usual case: no promise, no wait
    if (cached !== undefined) return this.verifyForTenant(request, response, signed, tenant, cached);
    return this.tenants.secretsOf(tenant).then(
      (secrets) => this.verifyForTenant(request, response, signed, tenant, secrets),
      (error: unknown) => {
        this.telemetry.refused(request, 'tenant_secret');
        if (error instanceof TenantLookupsThrottledError) {
          // A flood of made-up ids, most likely: summarised like the other refusals, not one error line each.
          this.refusals.refused('for a tenant not looked up: over tenants.maxLookupsPerSecond (503)', request.ip, () =>
            `Answered 503 to a webhook for tenant ${quoted(tenant)} from ${request.ip} without looking it up: ${error.message}. ` +
              'Keplars will retry; if these are your real tenants, raise tenants.maxLookupsPerSecond.',
          );
          throw refusal(response, new ServiceUnavailableException());
        }
        this.logger.error(
          `Answered 503 to a webhook for tenant ${quoted(tenant)} from ${request.ip}: its secret could not be looked up (${(error as Error).message}). ` +
            'Keplars will retry; check what tenants.resolveSecret depends on (database, vault).',
        );
        throw refusal(response, new ServiceUnavailableException());
      },
    );
  }

  private verifyForTenant(request: KeplarsWebhookRequest, response: unknown, signed: ReadSignature, tenant: string, secrets: readonly string[]): true {
    const known = secrets.length > 0;
    // The same work whether the tenant exists or not: one HMAC per secret, a decoy for an unknown one.
    const matched = matchesAnySecret(signed, request.rawBody ?? NO_BYTES, known ? secrets : this.decoySecrets);
    if (known && matched) {
      this.clock.signed();
      return true;
    }
    this.refuse(request, response, known ? 'signature does not match' : 'unknown tenant', tenant);
  }

  /** Answers 401, the same for every reason; the reason, and how to fix it, go to the log. */
  private refuse(request: KeplarsWebhookRequest, response: unknown, rejection: SignatureRejection | 'unknown tenant', tenant?: string): never {
    const hint =
      rejection === 'unknown tenant'
        ? 'tenants.resolveSecret returned no secret for it'
        : tenant !== undefined && rejection === 'signature does not match'
          ? "check the secret tenants.resolveSecret returns for it; while the tenant rotates it, return both (a list)"
          : HINTS[rejection];
    const forTenant = tenant === undefined ? '' : ` for tenant ${quoted(tenant)}`;
    // An unknown tenant counts as a wrong signature here too.
    this.telemetry.refused(request, rejection.startsWith('timestamp') ? 'timestamp' : 'signature');
    const unread = request.rawBody === undefined && declaresBody(request.headers) ? ' The body could not be read as sent: see the startup warnings.' : '';
    const empty = (request.rawBody?.length ?? 0) === 0 && !unread ? ', over an empty body' : '';
    const summary = rejection === 'unknown tenant' ? 'for an unknown tenant (401)' : SUMMARY_REASONS[rejection];
    this.refusals.refused(summary, request.ip, () => `Rejected a webhook${forTenant} from ${request.ip}: ${rejection}${empty} (${hint}) (401).${unread}`);
    throw refusal(response, new UnauthorizedException());
  }
}

/** A tenant from the URL, fit for a log line: quoted, and cut short. */
function quoted(tenant: string): string {
  return JSON.stringify(tenant.length > 64 ? `${tenant.slice(0, 64)}…` : tenant);
}
