import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { webhookSecretFrom } from './config/webhook-secret.js';
import { EmailsModule } from './emails/emails.module.js';
import { HealthController } from './operations/health.controller.js';
import { MetricsController } from './operations/metrics.controller.js';
import { SuppressionsModule } from './suppressions/suppressions.module.js';

@Module({
  imports: [
    // The file is optional; variables already set in the environment win over it.
    ConfigModule.forRoot({ isGlobal: true, envFilePath: 'apps/sample/.env' }),
    KeplarsWebhookModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ secret: webhookSecretFrom(config) }),
    }),
    EmailsModule,
    SuppressionsModule,
    TerminusModule,
  ],
  // Operations: Prometheus scrapes /metrics, the load balancer or Kubernetes probes /health.
  controllers: [MetricsController, HealthController],
})
export class AppModule {}
