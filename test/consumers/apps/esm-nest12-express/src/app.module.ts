import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { EngagementController } from './engagement.controller.js';
import { EngagementService } from './engagement.service.js';

@Module({
  imports: [EventEmitterModule.forRoot(), KeplarsWebhookModule.forRoot(process.env.KEPLARS_WEBHOOK_SECRET)],
  controllers: [EngagementController],
  providers: [EngagementService],
})
export class AppModule {}
