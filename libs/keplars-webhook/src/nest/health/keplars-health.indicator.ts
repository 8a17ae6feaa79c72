import { Inject, Injectable } from '@nestjs/common';
import { KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS } from '../options/keplars-webhook.constants.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import type { ResolvedKeplarsOptions } from '../options/resolve-keplars-options.js';
import { DEFAULT_ENDPOINT } from '../../core/0-event/keplars-event.js';
import { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';
import type { KeplarsHealthProbe, KeplarsHealthThresholds, KeplarsHealthPart } from '../../core/ports/health-probe.js';

/** Extra probes (queue mode provides its own under this token). */
export const KEPLARS_HEALTH_PROBES = Symbol.for('nestjs-keplars-webhook:health-probes'); // global: see module/keplars-webhook.constants.ts

/**
 * What Terminus expects of an indicator: `{ [key]: { status, ...details } }`.
 * @typeParam Key the name the result is reported under (`isHealthy`'s `key`).
 */
export type KeplarsHealthResult<Key extends string = string> = Record<
  Key,
  {
    /** `'up'` when every part of the check is; `'down'` when one is not, and `message` says which. */
    status: 'up' | 'down';
    [detail: string]: unknown;
  }
>;

/**
 * A `@nestjs/terminus` health indicator for the webhook: is the deduplication store reachable, when
 * did the last correctly signed delivery arrive on each endpoint, and (in queue mode) the queue's
 * reachability, backlog and dead letters, each against the thresholds you pass. It returns Terminus's
 * result shape and imports nothing of Terminus, so apps without it pay nothing.
 *
 * @example
 * ```ts
 * @Get('health') @HealthCheck()
 * check() {
 *   return this.health.check([() => this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: 3600 })]);
 * }
 * // several Keplars accounts, each on its own limit:
 * this.keplars.isHealthy('keplars', { maxSecondsSinceSignedDelivery: { eu: 900, us: 900, apac: 86_400 } })
 * ```
 */
@Injectable()
export class KeplarsHealthIndicator {
  /** @internal Nest injects it from `KeplarsWebhookModule` (which exports it); apps never call it. */
  constructor(
    @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
    @Inject(KEPLARS_IDEMPOTENCY_STORE) private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly clock: SignedDeliveryClock,
    @Inject(KEPLARS_HEALTH_PROBES) private readonly probes: readonly KeplarsHealthProbe[],
  ) {}

  /**
   * Up when every part is; each part's own status and details say which one is not.
   * @typeParam Key the type of `key`, so the result is typed by its name.
   * @param key the name the result is reported under, as Terminus shows it.
   * @param thresholds the limits to judge by; without any, it is down only when the store (or, in queue mode, the queue's Redis) is unreachable.
   */
  async isHealthy<Key extends string = 'keplars'>(key: Key = 'keplars' as Key, thresholds: KeplarsHealthThresholds = {}): Promise<KeplarsHealthResult<Key>> {
    const parts: Record<string, KeplarsHealthPart> = {
      store: await this.checkStore(),
      signedDelivery: this.checkSignedDelivery(thresholds),
    };
    for (const probe of this.probes) parts[probe.name] = await probe.check(thresholds).catch((error: unknown) => ({ status: 'down' as const, message: messageOf(error) }));
    const down = Object.entries(parts).filter(([, part]) => part.status === 'down').map(([name]) => name);
    const status = down.length === 0 ? 'up' : 'down';
    const message = down.length === 0 ? undefined : `Keplars webhook unhealthy: ${down.map((name) => describe(name, parts[name]!)).join('; ')}`;
    return { [key]: { status, ...(message && { message }), ...parts } } as KeplarsHealthResult<Key>;
  }

  private async checkStore(): Promise<KeplarsHealthPart> {
    const kind = this.options.deduplication?.store.kind ?? 'none';
    if (this.store?.ping === undefined) return { status: 'up', kind };
    try {
      await this.store.ping();
      return { status: 'up', kind };
    } catch (error) {
      return { status: 'down', kind, error: messageOf(error) };
    }
  }

  /**
   * Every receiving endpoint's age, each against its limit: `endpoints` holds them all; with one
   * endpoint, its `ageSeconds` and `maxSeconds` are also the part's own (as before several endpoints).
   */
  private checkSignedDelivery({ maxSecondsSinceSignedDelivery: limits }: KeplarsHealthThresholds): KeplarsHealthPart {
    const ages = this.clock.ages();
    const maxOf = (endpoint: string) => (typeof limits === 'number' ? limits : limits?.[endpoint]);
    const endpoints: Record<string, { status: 'up' | 'down'; ageSeconds: number; maxSeconds?: number }> = {};
    const silent: string[] = [];
    for (const [endpoint, age] of ages) {
      const ageSeconds = Math.round(age * 10) / 10;
      const max = maxOf(endpoint);
      if (max === undefined) {
        endpoints[endpoint] = { status: 'up', ageSeconds };
        continue;
      }
      const status = age > max ? 'down' : 'up';
      endpoints[endpoint] = { status, ageSeconds, maxSeconds: max };
      if (status === 'down') silent.push(ages.size === 1 && endpoint === DEFAULT_ENDPOINT ? `no signed delivery for ${ageSeconds} s (more than ${max} s)` : `no signed delivery on endpoint "${endpoint}" for ${ageSeconds} s (more than ${max} s)`);
    }
    // A limit for an endpoint this app does not have is a typo that would hide an alert: say so.
    const unknown = typeof limits === 'object' ? Object.keys(limits).filter((endpoint) => !ages.has(endpoint)) : [];
    for (const endpoint of unknown) {
      silent.push(`maxSecondsSinceSignedDelivery names endpoint "${endpoint}", which this app does not have (its endpoints: ${[...ages.keys()].join(', ')})`);
    }
    const only = ages.size === 1 ? Object.values(endpoints)[0] : undefined;
    return {
      status: silent.length === 0 ? 'up' : 'down',
      ...(only && { ageSeconds: only.ageSeconds, ...(only.maxSeconds !== undefined && { maxSeconds: only.maxSeconds }) }),
      endpoints,
      ...(silent.length > 0 && { message: silent.join('; ') }),
    };
  }
}

function describe(name: string, part: KeplarsHealthPart): string {
  if (name === 'store') return `the deduplication store (${String(part['kind'])}) is unreachable: ${String(part['error'])}`;
  if (name === 'signedDelivery') return String(part['message']);
  return `${name} is down${part['message'] === undefined ? '' : `: ${String(part['message'])}`}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
