import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module.js';
import { EmailStatusService } from './email-status.service.js';
import { EmailsController } from './emails.controller.js';

@Module({
  imports: [DatabaseModule],
  providers: [EmailStatusService],
  controllers: [EmailsController],
  exports: [EmailStatusService],
})
export class EmailsModule {}
