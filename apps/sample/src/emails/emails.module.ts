import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module.js';
import { emailStatusHandlerProvider } from './email-status.handlers.js';
import { EmailStatusService } from './email-status.service.js';
import { EmailsController } from './emails.controller.js';

@Module({
  imports: [DatabaseModule],
  providers: [EmailStatusService, emailStatusHandlerProvider],
  controllers: [EmailsController],
  exports: [EmailStatusService],
})
export class EmailsModule {}
