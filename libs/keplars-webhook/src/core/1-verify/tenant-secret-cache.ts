/** What the app's resolver may answer for a tenant (see `KeplarsSecretResolver`). */
export type SecretLookup = (tenant: string) => unknown;

/** Why a tenant's secret could not be looked up: the request is answered 503 and Keplars retries. */
export class TenantSecretLookupError extends Error {
  constructor(
    readonly tenant: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
    this.name = 'TenantSecretLookupError';
  }
}

/**
 * Why a tenant the cache does not know was not looked up: more such lookups than the rate allows
 * (`tenants.maxLookupsPerSecond`). Answered 503 like a failed lookup, so Keplars retries.
 */
export class TenantLookupsThrottledError extends TenantSecretLookupError {
  constructor(tenant: string, perSecond: number) {
    super(tenant, `more than ${perSecond} lookups a second of tenants not in the cache (tenants.maxLookupsPerSecond)`);
    this.name = 'TenantLookupsThrottledError';
  }
}

export interface TenantSecretCacheOptions {
  /** How long an answer (a secret, or "no such tenant") is kept. */
  readonly ttlMs: number;
  /** The most known tenants (with a secret) kept; beyond it, the longest cached is dropped first. */
  readonly maxTenants: number;
  /**
   * The most "no such tenant" answers kept, apart from the known tenants: they never push a known
   * tenant out. @default a tenth of `maxTenants` (at least 1)
   */
  readonly maxUnknownTenants?: number;
  /**
   * Lookups of tenants not known to have a secret (ids new to the cache, unknown ones whose answer
   * expired): at most this many run at once, and at most this many a second may find no tenant (or
   * fail); beyond it such a request is refused (503) without a lookup. A lookup that finds a secret
   * gives its place back at once, so many real tenants can be looked up after a restart.
   * @default 100
   */
  readonly maxLookupsPerSecond?: number;
  /** How long one lookup may take before it counts as failed. */
  readonly timeoutMs: number;
  /** The clock, in ms. @default Date.now */
  readonly now?: () => number;
}

interface CachedSecrets {
  readonly secrets: readonly string[];
  readonly expiresAt: number;
}

const NO_SECRETS: readonly string[] = Object.freeze([]);

export const DEFAULT_LOOKUPS_PER_SECOND = 100;

/**
 * The secrets of each tenant, looked up through the app's resolver and kept for a while (SPEC §7).
 *
 * - Bounded, known and unknown apart: at most `maxTenants` tenants with a secret and
 *   `maxUnknownTenants` "no such tenant" answers, each the longest cached dropped first. Anyone can
 *   make up tenant ids (no secret needed to ask), so their answers never push a known tenant out.
 *   Answers are never refreshed in place, so insertion order is also expiry order, and a `Map` is
 *   all it takes. A known tenant's expired answer stays until it is looked up again or pushed out.
 * - Timed: an answer is used for `ttlMs`, then looked up again, so a rotated secret takes effect.
 * - Single-flight: concurrent requests for a tenant whose answer is missing share one lookup, so the
 *   resolver runs at most once per tenant per `ttlMs`, whatever the load.
 * - Rate-bound for ids without a known secret: a flood of distinct made-up ids costs the resolver at
 *   most `maxLookupsPerSecond` calls at once and a second (a token bucket: a lookup takes a token, one
 *   that finds a secret gives it back); the rest are answered 503 without a call. Known tenants are
 *   looked up again whatever the flood.
 * - Unknown tenants are cached too (as no secrets), so a flood of requests for one cannot hammer
 *   the resolver; failures are not, so the next request tries again.
 *
 * No Nest here: `KeplarsSignatureGuard` wires it in.
 */
export class TenantSecretCache {
  /** Tenants with a secret. */
  private readonly known = new Map<string, CachedSecrets>();
  /** Tenants without one ("no such tenant"), with when that answer expires. */
  private readonly unknown = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<readonly string[]>>();
  private readonly now: () => number;
  private readonly maxUnknownTenants: number;
  private readonly maxLookupsPerSecond: number;
  /** Lookups of tenants without a known secret still allowed now (a token bucket, refilled continuously). */
  private lookupTokens: number;
  private tokensCountedAt: number;

  constructor(
    private readonly resolve: SecretLookup,
    private readonly options: TenantSecretCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxUnknownTenants = options.maxUnknownTenants ?? Math.max(1, Math.ceil(options.maxTenants / 10));
    this.maxLookupsPerSecond = options.maxLookupsPerSecond ?? DEFAULT_LOOKUPS_PER_SECOND;
    this.lookupTokens = this.maxLookupsPerSecond;
    this.tokensCountedAt = this.now();
  }

  /** The tenant's secrets if a fresh answer is cached (empty: no such tenant); `undefined` if not. */
  cached(tenant: string): readonly string[] | undefined {
    const known = this.known.get(tenant);
    if (known !== undefined) return known.expiresAt > this.now() ? known.secrets : undefined;
    const unknownUntil = this.unknown.get(tenant);
    return unknownUntil !== undefined && unknownUntil > this.now() ? NO_SECRETS : undefined;
  }

  /**
   * The tenant's secrets (empty: no such tenant), from the cache or the resolver. Rejects with a
   * {@link TenantSecretLookupError} when the resolver throws, times out or answers something unusable.
   */
  secretsOf(tenant: string): Promise<readonly string[]> {
    const cached = this.cached(tenant);
    if (cached !== undefined) return Promise.resolve(cached);
    let lookup = this.lookups.get(tenant);
    if (lookup === undefined) {
      const known = this.known.has(tenant);
      if (!known && !this.takeLookupToken()) return Promise.reject(new TenantLookupsThrottledError(tenant, this.maxLookupsPerSecond));
      lookup = this.lookUp(tenant).finally(() => this.lookups.delete(tenant));
      // A tenant that exists costs the flood budget nothing: made-up ids (and failures) keep their token.
      if (!known) lookup.then((secrets) => secrets.length > 0 && this.giveLookupTokenBack(), () => undefined);
      this.lookups.set(tenant, lookup);
    }
    return lookup;
  }

  /** How many answers are cached, known and unknown tenants (for tests and the benchmark). */
  get size(): number {
    return this.known.size + this.unknown.size;
  }

  private takeLookupToken(): boolean {
    this.refillLookupTokens();
    if (this.lookupTokens < 1) return false;
    this.lookupTokens -= 1;
    return true;
  }

  private giveLookupTokenBack(): void {
    this.refillLookupTokens();
    this.lookupTokens = Math.min(this.maxLookupsPerSecond, this.lookupTokens + 1);
  }

  private refillLookupTokens(): void {
    const now = this.now();
    this.lookupTokens = Math.min(this.maxLookupsPerSecond, this.lookupTokens + ((now - this.tokensCountedAt) * this.maxLookupsPerSecond) / 1000);
    this.tokensCountedAt = now;
  }

  private async lookUp(tenant: string): Promise<readonly string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TenantSecretLookupError(tenant, `no answer within ${this.options.timeoutMs} ms (tenants.timeoutMs)`)), this.options.timeoutMs);
      timer.unref();
    });
    let answer: unknown;
    try {
      answer = await Promise.race([Promise.resolve().then(() => this.resolve(tenant)), timeout]);
    } catch (error) {
      if (error instanceof TenantSecretLookupError) throw error;
      throw new TenantSecretLookupError(tenant, `resolveSecret threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const secrets = secretsIn(tenant, answer);
    this.remember(tenant, secrets);
    return secrets;
  }

  private remember(tenant: string, secrets: readonly string[]): void {
    // Re-inserted last, in its own map: the order of each map stays the order of expiry.
    this.known.delete(tenant);
    this.unknown.delete(tenant);
    const expiresAt = this.now() + this.options.ttlMs;
    if (secrets.length > 0) {
      if (this.known.size >= this.options.maxTenants) this.known.delete(this.known.keys().next().value!);
      this.known.set(tenant, { secrets, expiresAt });
    } else {
      if (this.unknown.size >= this.maxUnknownTenants) this.unknown.delete(this.unknown.keys().next().value!);
      this.unknown.set(tenant, expiresAt);
    }
  }
}

/** The usable secrets in a resolver's answer; throws on an answer that is neither secrets nor "none". */
function secretsIn(tenant: string, answer: unknown): readonly string[] {
  if (answer === undefined || answer === null) return NO_SECRETS;
  const list: readonly unknown[] = Array.isArray(answer) ? answer : [answer];
  if (list.some((secret) => typeof secret !== 'string')) {
    throw new TenantSecretLookupError(tenant, 'resolveSecret must return a string, a list of strings, or undefined for an unknown tenant (got something else)');
  }
  // An empty secret would let anyone sign: a tenant without one is a tenant that cannot receive.
  const secrets = (list as string[]).map((secret) => secret.trim()).filter((secret) => secret !== ''); // a stray newline from a file or column would match nothing
  return secrets.length === 0 ? NO_SECRETS : secrets;
}
