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
import { EmailsModule } from './emails/emails.module.js';
import { HealthController } from './operations/health.controller.js';
import { MetricsController } from './operations/metrics.controller.js';
import { SuppressionsModule } from './suppressions/suppressions.module.js';

@Module({
  imports: [
    // The file is optional; variables already set in the environment win over it.
    ConfigModule.forRoot({ isGlobal: true, envFilePath: 'apps/sample/.env' }),
    KeplarsWebhookModule.forRootAsync({
      imports: [DatabaseModule],
      inject: [ConfigService, DATABASE],
      useFactory: (config: ConfigService, db: Database) => ({
        secret: webhookSecretFrom(config),
        // The handlers' success marks in the app's own database, beside its tables (the module
        // creates its own): a transactional handler's writes commit together with its mark.
        deduplication: { store: { ...(db instanceof PGlite ? { pglite: db } : { postgres: db }), schema: databaseSchemaFrom(config) } },
        // With REDIS_URL set, queue mode: answered once Redis has the delivery, handled by workers.
        ...queueOptionsFrom(config),
      }),
    }),
    // In queue mode, the queue's dashboard at /admin/queues, behind basic auth (once it has a password).
    KeplarsDashboardModule.forRootAsync({ inject: [ConfigService], useFactory: queueDashboardOptionsFrom }),
    EmailsModule,
    SuppressionsModule,
    TerminusModule,
  ],
  // Operations: Prometheus scrapes /metrics, the load balancer or Kubernetes probes /health.
  controllers: [MetricsController, HealthController],
})
export class AppModule {}
