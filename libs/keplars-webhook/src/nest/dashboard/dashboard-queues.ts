import type { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { DEFAULT_ENDPOINT } from '../../core/0-event/keplars-event.js';
import { KeplarsEndpoints } from '../options/keplars-endpoints.js';
import { KEPLARS_QUEUE_RUNTIME } from '../options/keplars-webhook.constants.js';
import type { KeplarsQueueRuntime } from '../../adapters/bullmq-queue/keplars-queue-runtime.js';

/** One endpoint's queue, as the dashboard shows it. */
export interface DashboardQueue {
  /** The endpoint (`KeplarsWebhookModule`'s `name`) whose deliveries it holds. */
  readonly endpoint: string;
  readonly queue: Queue;
  /** Its Redis key prefix (BullMQ's `prefix`): the dead-letters command needs it when it is not `bull`. */
  readonly prefix: string;
  /** Its schema, when the queue is on Postgres: the dead-letters command takes it with --postgres. */
  readonly schema?: string;
}

/**
 * The queues of every import of `KeplarsWebhookModule` in queue mode, with the endpoint each serves;
 * `undefined` when the webhook module is not imported at all. Read from the imports' own providers,
 * so the dashboard shows the very queue the receivers write to.
 */
export function findDashboardQueues(moduleRef: ModuleRef): DashboardQueue[] | undefined {
  let runtimes: (KeplarsQueueRuntime | undefined)[];
  let endpoints: KeplarsEndpoints;
  try {
    runtimes = moduleRef.get<KeplarsQueueRuntime | undefined>(KEPLARS_QUEUE_RUNTIME, { strict: false, each: true });
    endpoints = moduleRef.get(KeplarsEndpoints, { strict: false });
  } catch {
    return undefined; // no KeplarsWebhookModule in this app
  }
  return runtimes
    .filter((runtime): runtime is KeplarsQueueRuntime => runtime !== undefined)
    .map((runtime) => ({
      // Each endpoint's runtime is opened with the very options object its endpoint entry keeps.
      endpoint: endpoints.all().find((endpoint) => endpoint.queue === runtime.options)?.name ?? DEFAULT_ENDPOINT,
      queue: runtime.queue as Queue,
      prefix: runtime.options.prefix,
      schema: runtime.options.postgres?.schema,
    }));
}
