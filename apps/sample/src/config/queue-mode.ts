import type { ConfigService } from '@nestjs/config';
import type { KeplarsDeduplicationOptions, KeplarsQueueOptions, KeplarsQueueRole } from 'nestjs-keplars-webhook';

/**
 * Queue mode is on when REDIS_URL is set: each verified webhook is written to a BullMQ queue in that
 * Redis and answered at once, and workers run the handlers, with retries and dead letters. Without
 * it the sample handles webhooks inline, inside Keplars' request, and needs nothing but itself.
 */
export function queueModeIsOn(config: ConfigService): boolean {
  return Boolean(config.get<string>('REDIS_URL')?.trim());
}

/** The webhook module's `queue` and `deduplication` options from the sample's environment, or none (inline). */
export function queueOptionsFrom(config: ConfigService): { queue?: KeplarsQueueOptions; deduplication?: KeplarsDeduplicationOptions } {
  if (!queueModeIsOn(config)) return {};
  const redis = config.get<string>('REDIS_URL')!.trim();
  // One prefix for every key the sample writes, so several apps (or test runs) can share a Redis.
  const prefix = config.get<string>('REDIS_KEY_PREFIX') || undefined;
  return {
    queue: {
      redis,
      prefix,
      // The module checks the values and says what is wrong with them; here they are only read.
      role: (config.get<string>('KEPLARS_QUEUE_ROLE') || undefined) as KeplarsQueueRole | undefined,
      attempts: numberFrom(config, 'KEPLARS_QUEUE_ATTEMPTS'),
      backoff: { delaySeconds: numberFrom(config, 'KEPLARS_QUEUE_BACKOFF_SECONDS') },
    },
    // The handlers' success marks live in the queue's Redis (the module's default); only their prefix is ours.
    deduplication: prefix ? { store: { redis, keyPrefix: `${prefix}:keplars:` } } : undefined,
  };
}

function numberFrom(config: ConfigService, name: string): number | undefined {
  const value = config.get<string>(name)?.trim();
  if (!value) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`${name} must be a number, not ${JSON.stringify(value)}: fix it in the environment or apps/sample/.env.`);
  return number;
}
