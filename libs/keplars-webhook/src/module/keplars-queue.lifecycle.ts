import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import { KeplarsEventDelivery } from '../6-dispatch/keplars-event-delivery.js';
import { KeplarsHandlerRegistry } from '../6-dispatch/keplars-handler-registry.js';
import { processes } from '../queue/keplars-queue.options.js';
import type { KeplarsQueueRuntime } from '../queue/keplars-queue-runtime.js';
import { readQueueBacklog } from '../queue/queue-backlog.js';
import { KEPLARS_TELEMETRY, type DeliveryTelemetry } from '../observe/delivery-telemetry.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS, KEPLARS_QUEUE_RUNTIME } from './keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions } from './resolve-keplars-options.js';

/**
 * Starts queue mode's worker once the app's handlers are known, and stops it first at shutdown
 * (deliveries being handled finish), before the connections close.
 */
@Injectable()
export class KeplarsQueueLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new KeplarsLog();

  constructor(
    @Inject(KEPLARS_OPTIONS) private readonly options: ResolvedKeplarsOptions,
    @Inject(KEPLARS_QUEUE_RUNTIME) private readonly runtime: KeplarsQueueRuntime | undefined,
    @Inject(KEPLARS_IDEMPOTENCY_STORE) private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly dispatch: KeplarsEventDelivery,
    private readonly registry: KeplarsHandlerRegistry,
    @Inject(KEPLARS_TELEMETRY) private readonly telemetry: DeliveryTelemetry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { queue, deduplication } = this.options;
    if (!this.runtime || !queue) return;
    const runtime = this.runtime;
    this.telemetry.observeQueue(() => readQueueBacklog(runtime.queue));
    if (processes(queue)) {
      await this.runtime.startWorker({
        telemetry: this.telemetry,
        dispatch: this.dispatch,
        registry: this.registry,
        store: this.store,
        windowMs: deduplication!.windowMs,
        lockMs: deduplication!.lockMs,
      });
    }
    this.logger.log(
      `Queue mode, role '${queue.role}': ${queue.role === 'process' ? 'no webhook route here; ' : 'deliveries are written to '}` +
        `queue "${queue.name}" (prefix "${queue.prefix}")${processes(queue) ? `, handled by a worker (concurrency ${queue.concurrency}, ${queue.attempts} attempts)` : ''}.`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime?.stopWorker();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime?.close();
  }
}
