import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { queueOptionsFrom } from './config/queue-mode.js';
import { webhookSecretFrom } from './config/webhook-secret.js';
import { EmailsModule } from './emails/emails.module.js';
import { HealthController } from './operations/health.controller.js';
import { MetricsController } from './operations/metrics.controller.js';
import { QueueDashboardModule } from './queue-dashboard/queue-dashboard.module.js';
import { SuppressionsModule } from './suppressions/suppressions.module.js';

@Module({
  imports: [
    // The file is optional; variables already set in the environment win over it.
    ConfigModule.forRoot({ isGlobal: true, envFilePath: 'apps/sample/.env' }),
    KeplarsWebhookModule.forRootAsync({
      inject: [ConfigService],
      // With REDIS_URL set, queue mode: answered once Redis has the delivery, handled by workers.
      useFactory: (config: ConfigService) => ({ secret: webhookSecretFrom(config), ...queueOptionsFrom(config) }),
    }),
    // In queue mode, the queue's dashboard at /admin/queues, behind basic auth.
    QueueDashboardModule,
    EmailsModule,
    SuppressionsModule,
    TerminusModule,
  ],
  // Operations: Prometheus scrapes /metrics, the load balancer or Kubernetes probes /health.
  controllers: [MetricsController, HealthController],
})
export class AppModule {}
