import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { KeplarsEventDelivery } from '../../core/4-deliver/keplars-event-delivery.js';
import { KeplarsHandlerRegistry } from '../../core/4-deliver/keplars-handler-registry.js';
import { processes } from '../../adapters/bullmq-queue/keplars-queue.options.js';
import type { KeplarsQueueRuntime } from '../../adapters/bullmq-queue/keplars-queue-runtime.js';
import { readQueueBacklog } from '../../adapters/bullmq-queue/queue-backlog.js';
import { type DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KEPLARS_IDEMPOTENCY_STORE, KEPLARS_OPTIONS, KEPLARS_QUEUE_RUNTIME, KEPLARS_TELEMETRY } from '../options/keplars-webhook.constants.js';
import type { ResolvedKeplarsOptions } from '../options/resolve-keplars-options.js';

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
        `queue "${queue.name}" (${queue.postgres ? `Postgres, schema "${queue.postgres.schema}"` : `prefix "${queue.prefix}"`})${processes(queue) ? `, handled by a worker (concurrency ${queue.concurrency}, ${queue.attempts} attempts)` : ''}.`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime?.stopWorker();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime?.close();
  }
}
