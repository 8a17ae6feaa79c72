import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module.js';
import { SuppressionListService } from './suppression-list.service.js';
import { SuppressionsController } from './suppressions.controller.js';

@Module({
  imports: [DatabaseModule],
  providers: [SuppressionListService],
  controllers: [SuppressionsController],
  exports: [SuppressionListService],
})
export class SuppressionsModule {}
