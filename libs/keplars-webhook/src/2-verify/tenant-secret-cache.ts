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

export interface TenantSecretCacheOptions {
  /** How long an answer (a secret, or "no such tenant") is kept. */
  readonly ttlMs: number;
  /** The most tenants kept; beyond it, the longest cached is dropped first. */
  readonly maxTenants: number;
  /** How long one lookup may take before it counts as failed. */
  readonly timeoutMs: number;
  /** The clock, in ms. @default Date.now */
  readonly now?: () => number;
}

interface CachedSecrets {
  /** Empty: no such tenant (the resolver said so), kept like a secret so lookups stay bounded. */
  readonly secrets: readonly string[];
  readonly expiresAt: number;
}

const NO_SECRETS: readonly string[] = Object.freeze([]);

/**
 * The secrets of each tenant, looked up through the app's resolver and kept for a while (SPEC §7).
 *
 * - Bounded: at most `maxTenants` answers, the longest cached dropped first. Answers are never
 *   refreshed in place, so insertion order is also expiry order, and a `Map` is all it takes.
 * - Timed: an answer is used for `ttlMs`, then looked up again, so a rotated secret takes effect.
 * - Single-flight: concurrent requests for a tenant whose answer is missing share one lookup, so the
 *   resolver runs at most once per tenant per `ttlMs`, whatever the load.
 * - Unknown tenants are cached too (as no secrets), so a flood of requests for one cannot hammer
 *   the resolver; failures are not, so the next request tries again.
 *
 * No Nest here: `KeplarsSignatureGuard` wires it in.
 */
export class TenantSecretCache {
  private readonly answers = new Map<string, CachedSecrets>();
  private readonly lookups = new Map<string, Promise<readonly string[]>>();
  private readonly now: () => number;

  constructor(
    private readonly resolve: SecretLookup,
    private readonly options: TenantSecretCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The tenant's secrets if a fresh answer is cached (empty: no such tenant); `undefined` if not. */
  cached(tenant: string): readonly string[] | undefined {
    const answer = this.answers.get(tenant);
    return answer !== undefined && answer.expiresAt > this.now() ? answer.secrets : undefined;
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
      lookup = this.lookUp(tenant).finally(() => this.lookups.delete(tenant));
      this.lookups.set(tenant, lookup);
    }
    return lookup;
  }

  /** How many answers are cached (for tests and the benchmark). */
  get size(): number {
    return this.answers.size;
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
    this.answers.delete(tenant); // re-inserted last: the order stays the order of expiry
    if (this.answers.size >= this.options.maxTenants) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(tenant, { secrets, expiresAt: this.now() + this.options.ttlMs });
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
