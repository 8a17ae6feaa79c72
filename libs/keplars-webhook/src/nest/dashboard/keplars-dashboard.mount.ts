import type { OnModuleInit } from '@nestjs/common';
import type { ApplicationConfig, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { DEFAULT_ENDPOINT } from '../../core/0-event/keplars-event.js';
import type { KeplarsLog } from '../log/keplars-log.js';
import { DashboardGate } from './dashboard-gate.js';
import { findDashboardQueues, type DashboardQueue } from './dashboard-queues.js';
import { loadBullBoard, loadBullMQQueueAdapter, type BullBoard, type BullMQQueueAdapter } from './load-bull-board.js';
import { mountOnExpress, type ExpressAppLike } from './mount-on-express.js';
import { mountOnFastify, type FastifyLike } from './mount-on-fastify.js';
import type { DisabledDashboardOptions, ResolvedDashboardOptions } from './resolve-dashboard-options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

/**
 * Mounts the dashboard once the app's routes are registered (`onModuleInit`, before Nest's 404
 * handler), on the HTTP adapter the app runs: bull-board's router on Express, its plugin on Fastify.
 * Says in the log why nothing is mounted when there is nothing to show.
 */
export class KeplarsDashboardMount implements OnModuleInit {
  constructor(
    private readonly settings: ResolvedDashboardOptions | DisabledDashboardOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
    private readonly moduleRef: ModuleRef,
    private readonly logger: KeplarsLog,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.settings.enabled) {
      this.logger.log(`KeplarsDashboardModule mounts nothing at ${this.settings.path}: it is turned off (enabled: false).`);
      return;
    }
    const options = this.settings;
    const http = this.adapterHost.httpAdapter;
    if (!http) {
      this.logger.log('KeplarsDashboardModule mounts nothing: this app serves no HTTP (an application context, such as a queue worker). Import it in the app that serves HTTP.');
      return;
    }
    const kind = http.getType();
    if (kind !== 'express' && kind !== 'fastify') {
      throw new KeplarsConfigurationError([`the dashboard runs on Express or Fastify, and this app's HTTP adapter is "${kind}".`], 'KeplarsDashboardModule');
    }
    // Loaded (and the versions checked) even when there is no queue to show: a missing or
    // mismatched install shows up in development, not first where queue mode is on.
    const bullBoard = await loadBullBoard(kind);
    const queues = findDashboardQueues(this.moduleRef);
    if (queues === undefined || queues.length === 0) {
      this.logger.warn(
        `KeplarsDashboardModule mounts nothing at ${options.path}: ` +
          (queues === undefined
            ? 'KeplarsWebhookModule is not imported in this app. Import it with a "queue" option.'
            : 'no import of KeplarsWebhookModule runs in queue mode, and the dashboard shows the queue (inline, deliveries are handled within Keplars\' request; there is no queue). ' +
              'Give KeplarsWebhookModule a "queue" option to see it, or leave KeplarsDashboardModule out.'),
      );
      return;
    }
    const path = this.servedPath(options.path);
    const gate = new DashboardGate(options, this.logger);
    const server = this.createBoard(options, bullBoard, await loadBullMQQueueAdapter(), queues, path);
    if (server.kind === 'express') mountOnExpress(http.getInstance<ExpressAppLike>(), path, gate, server.adapter.getRouter());
    else await mountOnFastify(http.getInstance<FastifyLike>(), path, gate, server.adapter.registerPlugin() as never);
    const { api, adapter, adapterVersion } = bullBoard.versions;
    this.logger.log(
      `Dashboard of the webhook queue at GET ${path} (${gate.summary()}), showing ` +
        `${queues.map(({ endpoint }) => (endpoint === DEFAULT_ENDPOINT ? 'the deliveries' : `endpoint "${endpoint}"`)).join(', ')}; its failed jobs are the dead letters. ` +
        `@bull-board/api ${api ?? '(version unknown)'}, ${adapter} ${adapterVersion ?? '(version unknown)'}.`,
    );
  }

  /** The path under the app's global prefix, as a controller's route would be. */
  private servedPath(path: string): string {
    const prefix = this.config.getGlobalPrefix().split('/').filter(Boolean);
    return `/${[...prefix, ...path.split('/').filter(Boolean)].join('/')}`;
  }

  private createBoard(options: ResolvedDashboardOptions, bullBoard: BullBoard, BullMQAdapter: BullMQQueueAdapter, queues: readonly DashboardQueue[], path: string) {
    const server = bullBoard.createServerAdapter();
    server.adapter.setBasePath(path);
    const named = queues.length > 1 || queues.some(({ endpoint }) => endpoint !== DEFAULT_ENDPOINT);
    const boards = queues.map((entry) => {
      // Two endpoints' queues of one name would be one entry in bull-board's list: their endpoint tells them apart.
      const prefix = queues.length > 1 ? `${entry.endpoint}-` : '';
      const where = entry.schema !== undefined ? ` --postgres $KEPLARS_QUEUE_POSTGRES_URL --schema ${entry.schema}` : entry.prefix === 'bull' ? '' : ` --prefix ${entry.prefix}`;
      const replay = `npx keplars-webhook dead-letters replay${where}`;
      const adapter = new BullMQAdapter(entry.queue, {
        readOnlyMode: options.readOnly,
        prefix,
        displayName: named ? `Keplars deliveries, endpoint "${entry.endpoint}"` : 'Keplars deliveries',
        // The page shows it under the queue's name, above the status tabs: the heading of the failed list.
        description: `Failed = dead letters. Replay: ${replay} --all`,
      });
      return { adapter, link: { text: named ? `Dead letters (${entry.endpoint})` : 'Dead letters', url: `${path}/queue/${encodeURIComponent(adapter.getName())}?status=failed` } };
    });
    bullBoard.createBullBoard({
      queues: boards.map(({ adapter }) => adapter),
      serverAdapter: server.adapter,
      options: { uiConfig: { boardTitle: options.title, miscLinks: boards.map(({ link }) => link) } },
    });
    return server;
  }
}
