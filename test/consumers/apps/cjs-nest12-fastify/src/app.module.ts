import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { EngagementController } from './engagement.controller';
import { EngagementService } from './engagement.service';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    KeplarsWebhookModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('KEPLARS_WEBHOOK_SECRET') }),
    }),
  ],
  controllers: [EngagementController],
  providers: [EngagementService],
})
export class AppModule {}
