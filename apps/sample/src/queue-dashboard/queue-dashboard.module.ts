import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Logger, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { KEPLARS_QUEUE } from 'nestjs-keplars-webhook';
import { basicAuth } from './basic-auth.js';

/** Where the dashboard is served. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * bull-board's dashboard of the webhook queue, in queue mode: what is waiting, running, retrying,
 * done, and the dead letters with every handler's last error. It shows every delivery's body, so it
 * is behind basic auth (QUEUE_DASHBOARD_USER, default "admin", and QUEUE_DASHBOARD_PASSWORD); without
 * a password it is not mounted, and the startup log says how to turn it on. Inline, there is no
 * queue, so no dashboard either.
 *
 * Read-only on purpose: a dead letter is replayed with `KeplarsDeadLetters` (or the package's
 * `dead-letters` command), which runs only the handlers that never succeeded, and no one can add a
 * job here that the workers would then run as if Keplars had signed it.
 *
 * bull-board's own Nest module (`@bull-board/nestjs`) is CommonJS that `require()`s `@nestjs/common`,
 * which Nest 12 ships as ES modules only; the few lines below do its job from `@bull-board/api`.
 */
@Module({})
export class QueueDashboardModule implements NestModule {
  private readonly logger = new Logger('QueueDashboard');

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly config: ConfigService,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // Provided by the webhook module (under @nestjs/bullmq's token for it); undefined inline.
    const queue = this.moduleRef.get<Queue | undefined>(KEPLARS_QUEUE, { strict: false });
    if (!queue) return;

    const user = this.config.get<string>('QUEUE_DASHBOARD_USER') || 'admin';
    const password = this.config.get<string>('QUEUE_DASHBOARD_PASSWORD');
    if (!password) {
      this.logger.warn(
        `The queue dashboard at ${QUEUE_DASHBOARD_PATH} is off: it shows every delivery, so it needs a password. ` +
          'Set QUEUE_DASHBOARD_PASSWORD (and QUEUE_DASHBOARD_USER, default "admin") in apps/sample/.env to turn it on.',
      );
      return;
    }

    const board = new ExpressAdapter();
    board.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(queue, { readOnlyMode: true, displayName: 'Keplars deliveries', description: 'Failed jobs are the dead letters.' })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Keplars webhooks' } },
    });
    consumer.apply(basicAuth(user, password, 'Keplars queue dashboard'), board.getRouter()).forRoutes(QUEUE_DASHBOARD_PATH);
    this.logger.log(`Queue dashboard at ${QUEUE_DASHBOARD_PATH}, for user "${user}" (QUEUE_DASHBOARD_USER) with QUEUE_DASHBOARD_PASSWORD`);
  }
}
