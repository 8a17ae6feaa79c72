import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RefusalReason } from '../0-event/delivery-outcome.js';
import { matchesAnySecret, readKeplarsSignature, type ReadSignature, type SignatureRejection } from './keplars-signature.js';
import type { EndpointClock } from './signed-delivery-clock.js';
import { TenantLookupsThrottledError, type TenantSecretCache } from './tenant-secret-cache.js';

/** The request as step 1 sees it: headers and exact bytes, nothing parsed. */
export interface RequestToVerify {
  readonly headers: IncomingHttpHeaders;
  /** The raw body; absent when the framework kept no bytes (an empty body). */
  readonly rawBody?: Buffer | undefined;
}

/**
 * Why step 1 refused a request, as the shell answers and logs it: the status (never the reason) for
 * the caller; the reason for the telemetry; and for the log, a line built only when it is written.
 */
export interface Refusal {
  readonly status: 401 | 413 | 415 | 503;
  readonly reason: RefusalReason;
  /**
   * `summarised`: anyone can cause it, so a flood is counted under `summary` (the refusal log);
   * `error`: this app's own dependency failed (a tenant lookup), written each time as an error.
   */
  readonly log: 'summarised' | 'error';
  /** How a flood of these is counted, e.g. `with a signature that does not match (401)`. */
  readonly summary: string;
  /** The log line about one request, from the address given. */
  readonly line: (from: string | undefined) => string;
}

export interface RequestVerifierSettings {
  /** The endpoint's secrets (any one passes); unused on a tenant route. */
  readonly secrets: readonly string[];
  /** Lower-case header names. */
  readonly signatureHeader: string;
  readonly timestamp?: { readonly header: string; readonly toleranceSeconds: number } | undefined;
  readonly maxBodyBytes: number;
  /** On a tenant route: the tenant's secrets, looked up and cached. */
  readonly tenants?: TenantSecretCache | undefined;
  /** This endpoint's time of its last signed delivery (the health check and the age gauge read it). */
  readonly clock: EndpointClock;
}

/** Longer tenants are not looked up at all: no real one is, and the cache keeps its keys. */
const MAX_TENANT_LENGTH = 256;
const NO_SECRETS: readonly string[] = Object.freeze([]);
const NO_BYTES = Buffer.alloc(0);
const JSON_CONTENT_TYPE = /^application\/json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

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

/** Whether the request says its body is JSON (`application/json`, any parameters). */
export function isJsonRequest(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  // What Keplars sends, compared before any pattern runs.
  return contentType === 'application/json' || (contentType !== undefined && JSON_CONTENT_TYPE.test(contentType));
}

/**
 * Why the body cannot be verified as sent, or `undefined` if it can. Keplars signs the bytes of UTF-8
 * JSON it sends as they are; a body in a content encoding (gzip, deflate, br) or in another charset
 * would be decoded by one framework before verification and refused by another, so both answer 415.
 */
export function unsupportedBodyEncoding(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.split(',').some((coding) => !['', 'identity'].includes(coding.trim().toLowerCase()))) {
    return `Content-Encoding ${JSON.stringify(encoding)}, not identity`;
  }
  const contentType = headers['content-type'];
  if (contentType === undefined || !contentType.includes(';')) return undefined; // no parameters, so no charset
  const match = CHARSET.exec(contentType);
  const charset = match && (match[1] ?? match[2] ?? '').toLowerCase();
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') return `charset ${JSON.stringify(charset)}, not utf-8`;
  return undefined;
}

/** Whether the request declares a body (a length above zero, or chunks), as Node's HTTP parser reads it. */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * Step 1 (SPEC §2, §3): lets a request through only if it is JSON, unencoded, within the size limit,
 * and carries a valid Keplars signature over its exact raw bytes. Nothing is parsed before this
 * passes. It answers `undefined` (verified), a {@link Refusal}, or, on a tenant route whose secret is
 * not cached, a promise of either.
 *
 * On a tenant route, the secrets are the tenant's, looked up (and cached) once the header is known
 * to be well formed. An unknown tenant is refused exactly like a wrong signature: same answer, and
 * the same work (an HMAC with a decoy secret), so neither tells whether the tenant exists. A lookup
 * that fails is answered 503, so Keplars retries.
 */
export class RequestVerifier {
  /** What an unknown tenant's request is checked against: a secret no one has, so it never matches. */
  private readonly decoySecrets: readonly string[] = [randomBytes(32).toString('hex')];

  constructor(private readonly settings: RequestVerifierSettings) {}

  verify(request: RequestToVerify, tenant?: string): Refusal | undefined | Promise<Refusal | undefined> {
    const { headers } = request;
    if (!isJsonRequest(headers)) {
      return refusal(415, 'content_type', 'with another Content-Type (415)', (from) =>
        `Rejected a webhook from ${from}: Content-Type is ${JSON.stringify(headers['content-type'] ?? 'missing')}, not application/json (415).`,
      );
    }
    const encoding = unsupportedBodyEncoding(headers);
    if (encoding !== undefined) return refusal(415, 'content_type', 'with an unsupported encoding (415)', (from) => `Rejected a webhook from ${from}: ${encoding} (415).`);
    // No raw bytes: an empty body (Express's parser skips it), unsigned input like any other. (A body
    // the parser read without keeping its bytes is what the startup check refuses; if it could not
    // check, such a body fails the signature here too, and its log line says so.)
    const rawBody = request.rawBody ?? NO_BYTES;
    const { maxBodyBytes, signatureHeader, timestamp, tenants } = this.settings;
    if (rawBody.length > maxBodyBytes) {
      return refusal(413, 'size', 'over maxBodyBytes (413)', (from) =>
        `Rejected a webhook from ${from}: its body of ${rawBody.length} bytes is over maxBodyBytes (${maxBodyBytes}) (413).`,
      );
    }

    const signed = readKeplarsSignature({
      rawBody,
      signature: headers[signatureHeader],
      timestamp: timestamp && { value: headers[timestamp.header], toleranceSeconds: timestamp.toleranceSeconds },
    });
    if ('rejection' in signed) return unsigned(request, signed.rejection);
    if (tenants === undefined) {
      if (!matchesAnySecret(signed, rawBody, this.settings.secrets)) return unsigned(request, 'signature does not match');
      this.settings.clock.signed();
      return undefined;
    }

    if (tenant === undefined || tenant === '' || tenant.length > MAX_TENANT_LENGTH) return this.verifyForTenant(request, signed, String(tenant), NO_SECRETS);
    const cached = tenants.cached(tenant); // the usual case: no promise, no wait
    if (cached !== undefined) return this.verifyForTenant(request, signed, tenant, cached);
    return tenants.secretsOf(tenant).then(
      (secrets) => this.verifyForTenant(request, signed, tenant, secrets),
      (error: unknown): Refusal => {
        if (error instanceof TenantLookupsThrottledError) {
          // A flood of made-up ids, most likely: summarised like the other refusals, not one error line each.
          return refusal(503, 'tenant_secret', 'for a tenant not looked up: over tenants.maxLookupsPerSecond (503)', (from) =>
            `Answered 503 to a webhook for tenant ${quoted(tenant)} from ${from} without looking it up: ${error.message}. ` +
              'Keplars will retry; if these are your real tenants, raise tenants.maxLookupsPerSecond.',
          );
        }
        return {
          status: 503,
          reason: 'tenant_secret',
          log: 'error',
          summary: 'for a tenant whose secret could not be looked up (503)',
          line: (from) =>
            `Answered 503 to a webhook for tenant ${quoted(tenant)} from ${from}: its secret could not be looked up (${(error as Error).message}). ` +
            'Keplars will retry; check what tenants.resolveSecret depends on (database, vault).',
        };
      },
    );
  }

  private verifyForTenant(request: RequestToVerify, signed: ReadSignature, tenant: string, secrets: readonly string[]): Refusal | undefined {
    const known = secrets.length > 0;
    // The same work whether the tenant exists or not: one HMAC per secret, a decoy for an unknown one.
    const matched = matchesAnySecret(signed, request.rawBody ?? NO_BYTES, known ? secrets : this.decoySecrets);
    if (known && matched) {
      this.settings.clock.signed();
      return undefined;
    }
    return unsigned(request, known ? 'signature does not match' : 'unknown tenant', tenant);
  }
}

function refusal(status: Refusal['status'], reason: RefusalReason, summary: string, line: Refusal['line']): Refusal {
  return { status, reason, log: 'summarised', summary, line };
}

/** A 401, the same for every reason; the reason, and how to fix it, go to the log. */
function unsigned(request: RequestToVerify, rejection: SignatureRejection | 'unknown tenant', tenant?: string): Refusal {
  const hint =
    rejection === 'unknown tenant'
      ? 'tenants.resolveSecret returned no secret for it'
      : tenant !== undefined && rejection === 'signature does not match'
        ? "check the secret tenants.resolveSecret returns for it; while the tenant rotates it, return both (a list)"
        : HINTS[rejection];
  const forTenant = tenant === undefined ? '' : ` for tenant ${quoted(tenant)}`;
  const unread = request.rawBody === undefined && declaresBody(request.headers) ? ' The body could not be read as sent: see the startup warnings.' : '';
  const empty = (request.rawBody?.length ?? 0) === 0 && !unread ? ', over an empty body' : '';
  // An unknown tenant counts as a wrong signature too.
  const reason: RefusalReason = rejection.startsWith('timestamp') ? 'timestamp' : 'signature';
  const summary = rejection === 'unknown tenant' ? 'for an unknown tenant (401)' : SUMMARY_REASONS[rejection];
  return refusal(401, reason, summary, (from) => `Rejected a webhook${forTenant} from ${from}: ${rejection}${empty} (${hint}) (401).${unread}`);
}

/** A tenant from the URL, fit for a log line: quoted, and cut short. */
function quoted(tenant: string): string {
  return JSON.stringify(tenant.length > 64 ? `${tenant.slice(0, 64)}…` : tenant);
}
