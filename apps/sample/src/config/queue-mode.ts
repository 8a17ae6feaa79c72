import type { ConfigService } from '@nestjs/config';
import type { KeplarsQueueOptions, KeplarsQueueRole } from 'nestjs-keplars-webhook';
import { databaseSchemaFrom } from '../database/open-database.js';

/** Where the queue lives: the server the environment names for it. */
type QueueBackend = Pick<KeplarsQueueOptions, 'redis'> | Pick<KeplarsQueueOptions, 'postgres' | 'schema'>;

/**
 * Queue mode is on when the environment names a server for the queue: REDIS_URL, or else DATABASE_URL
 * (the queue then lives in that Postgres, beside the sample's tables and marks). Each verified webhook
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
      // One prefix for the queue's keys in Redis, so several apps (or test runs) can share a server.
      ...('redis' in backend ? { prefix: config.get<string>('REDIS_KEY_PREFIX') || undefined } : {}),
      // The module checks the values and says what is wrong with them; here they are only read.
      role: (config.get<string>('KEPLARS_QUEUE_ROLE') || undefined) as KeplarsQueueRole | undefined,
      attempts: numberFrom(config, 'KEPLARS_QUEUE_ATTEMPTS'),
      backoff: { delaySeconds: numberFrom(config, 'KEPLARS_QUEUE_BACKOFF_SECONDS') },
    },
  };
}

/**
 * One branch per server the queue can live on; the first one configured wins. None: inline.
 * QUEUE_MODE=inline keeps webhooks inline whatever is set (a Postgres for the tables only).
 */
function queueBackendFrom(config: ConfigService): QueueBackend | undefined {
  if (config.get<string>('QUEUE_MODE')?.trim() === 'inline') return undefined;
  const redis = config.get<string>('REDIS_URL')?.trim();
  if (redis) return { redis };
  const postgres = config.get<string>('DATABASE_URL')?.trim();
  if (postgres) return { postgres, schema: `${databaseSchemaFrom(config)}_queue` };
  return undefined;
}

function numberFrom(config: ConfigService, name: string): number | undefined {
  const value = config.get<string>(name)?.trim();
  if (!value) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`${name} must be a number, not ${JSON.stringify(value)}: fix it in the environment or apps/sample/.env.`);
  return number;
}
