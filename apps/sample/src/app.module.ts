import { PGlite } from '@electric-sql/pglite';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { KeplarsDashboardModule, KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { queueDashboardOptionsFrom } from './config/queue-dashboard.js';
import { queueOptionsFrom } from './config/queue-mode.js';
import { webhookSecretFrom } from './config/webhook-secret.js';
import { DATABASE, DatabaseModule } from './database/database.module.js';
import { databaseSchemaFrom, type Database } from './database/open-database.js';
import { EmailsController } from './emails/emails.controller.js';
import { LedgerPageController } from './ledger-page/ledger-page.controller.js';
import { HealthController } from './operations/health.controller.js';
import { MetricsController } from './operations/metrics.controller.js';
import { CrmSync } from './suppressions/crm-sync.service.js';
import { SuppressionsController } from './suppressions/suppressions.controller.js';

@Module({
  imports: [
    // The file is optional; variables already set in the environment win over it.
    ConfigModule.forRoot({ isGlobal: true, envFilePath: 'apps/sample/.env' }),
    KeplarsWebhookModule.forRootAsync({
      imports: [DatabaseModule],
      inject: [ConfigService, DATABASE],
      useFactory: (config: ConfigService, db: Database) => ({
        secret: webhookSecretFrom(config),
        // The handlers' success marks in the app's own database (the module creates its tables).
        deduplication: { store: { ...(db instanceof PGlite ? { pglite: db } : { postgres: db }), schema: databaseSchemaFrom(config) } },
        // Each email's status and timeline, and the suppression list, kept beside the marks: every
        // event's ledger write commits with its mark, so a retry or a copy never counts twice.
        ledger: {
          retentionDays: 30, // an email and its timeline, 30 days after its last event
          suppressions: {
            // A hard bounce or a complaint always suppresses; soft bounces (a full mailbox) after 3 in a week,
            softBounces: { count: 3, withinDays: 7 },
            // and only for 30 days. The others last until reactivated (DELETE /suppressions/:address).
            expireAfterDays: { 'soft-bounces': 30 },
          },
        },
        // With REDIS_URL set, queue mode: answered once Redis has the delivery, handled by workers.
        ...queueOptionsFrom(config),
      }),
    }),
    // In queue mode, the queue's dashboard at /admin/queues, behind basic auth (once it has a password).
    KeplarsDashboardModule.forRootAsync({ inject: [ConfigService], useFactory: queueDashboardOptionsFrom }),
    TerminusModule,
  ],
  controllers: [
    // The ledger, through the KeplarsEmailLedger the webhook module provides: a page to look at
    // (GET /), and the JSON an app's own screens would use.
    LedgerPageController,
    EmailsController,
    SuppressionsController,
    // Operations: Prometheus scrapes /metrics, the load balancer or Kubernetes probes /health.
    MetricsController,
    HealthController,
  ],
  // Told once of each address an event suppresses (@OnAddressSuppressed()).
  providers: [CrmSync],
})
export class AppModule {}
