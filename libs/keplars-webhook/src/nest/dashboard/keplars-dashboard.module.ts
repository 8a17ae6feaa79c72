import { Logger, Module } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { KeplarsLog } from '../log/keplars-log.js';
import { KEPLARS_DASHBOARD_MODULE_OPTIONS, KeplarsDashboardConfigurableModule } from './keplars-dashboard.module-definition.js';
import { KeplarsDashboardMount } from './keplars-dashboard.mount.js';
import type { KeplarsDashboardOptions } from './keplars-dashboard.options.js';
import { resolveDashboardOptions, type DisabledDashboardOptions, type ResolvedDashboardOptions } from './resolve-dashboard-options.js';

const KEPLARS_DASHBOARD_OPTIONS = Symbol.for('nestjs-keplars-webhook:dashboard-options');

/**
 * The queue-mode dashboard: bull-board on the webhook queue, on Express or Fastify, behind your
 * authentication, read-only unless you say otherwise. Its failed jobs are the dead letters. Import it
 * beside `KeplarsWebhookModule` (with a `queue` option); it needs `@bull-board/api` and
 * `@bull-board/express` or `@bull-board/fastify` at one version. Without `auth` the app does not
 * start; inline (no queue) it mounts nothing and the log says why.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     KeplarsWebhookModule.forRoot({ secret: process.env.KEPLARS_WEBHOOK_SECRET, queue: { redis: process.env.REDIS_URL } }),
 *     KeplarsDashboardModule.forRoot({ auth: { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD } }),
 *   ],
 * })
 * export class AppModule {}
 *
 * // with @nestjs/config:
 * KeplarsDashboardModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ auth: { user: 'admin', password: config.get('QUEUE_DASHBOARD_PASSWORD') } }),
 * })
 * ```
 */
@Module({
  providers: [
    {
      // Checked when the module is created: a dashboard without auth stops NestFactory.create().
      provide: KEPLARS_DASHBOARD_OPTIONS,
      useFactory: (options: KeplarsDashboardOptions) => resolveDashboardOptions(options),
      inject: [KEPLARS_DASHBOARD_MODULE_OPTIONS],
    },
    {
      provide: KeplarsDashboardMount,
      useFactory: (options: ResolvedDashboardOptions | DisabledDashboardOptions, adapterHost: HttpAdapterHost, config: ApplicationConfig, moduleRef: ModuleRef) =>
        new KeplarsDashboardMount(options, adapterHost, config, moduleRef, new KeplarsLog(new Logger('KeplarsDashboard'))),
      inject: [KEPLARS_DASHBOARD_OPTIONS, HttpAdapterHost, ApplicationConfig, ModuleRef],
    },
  ],
})
export class KeplarsDashboardModule extends KeplarsDashboardConfigurableModule {}
