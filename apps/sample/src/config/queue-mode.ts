import type { ConfigService } from '@nestjs/config';
import type { KeplarsQueueOptions, KeplarsQueueRole } from 'nestjs-keplars-webhook';

/** Where the queue lives: the server the environment names for it. */
type QueueBackend = Pick<KeplarsQueueOptions, 'redis'>;

/**
 * Queue mode is on when the environment names a server for the queue: REDIS_URL. Each verified webhook
 * is written to a BullMQ queue there and answered at once, and workers run the handlers, with retries
 * and dead letters. Without one the sample handles webhooks inline, inside Keplars' request, and needs
 * nothing but itself.
 */
export function queueModeIsOn(config: ConfigService): boolean {
  return queueBackendFrom(config) !== undefined;
}

/** The webhook module's `queue` option from the sample's environment, or none (inline). */
export function queueOptionsFrom(config: ConfigService): { queue?: KeplarsQueueOptions } {
  const backend = queueBackendFrom(config);
  if (!backend) return {};
  return {
    queue: {
      ...backend,
      // One prefix for the queue's keys, so several apps (or test runs) can share a server.
      prefix: config.get<string>('REDIS_KEY_PREFIX') || undefined,
      // The module checks the values and says what is wrong with them; here they are only read.
      role: (config.get<string>('KEPLARS_QUEUE_ROLE') || undefined) as KeplarsQueueRole | undefined,
      attempts: numberFrom(config, 'KEPLARS_QUEUE_ATTEMPTS'),
      backoff: { delaySeconds: numberFrom(config, 'KEPLARS_QUEUE_BACKOFF_SECONDS') },
    },
  };
}

/** One branch per server the queue can live on; the first one configured wins. None: inline. */
function queueBackendFrom(config: ConfigService): QueueBackend | undefined {
  const redis = config.get<string>('REDIS_URL')?.trim();
  if (redis) return { redis };
  return undefined;
}

function numberFrom(config: ConfigService, name: string): number | undefined {
  const value = config.get<string>(name)?.trim();
  if (!value) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`${name} must be a number, not ${JSON.stringify(value)}: fix it in the environment or apps/sample/.env.`);
  return number;
}
