import { Controller, Get } from '@nestjs/common';
import { SuppressionListService, type Suppression } from './suppression-list.service.js';

@Controller('suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionListService) {}

  @Get()
  list(): Promise<Suppression[]> {
    return this.suppressions.list();
  }
}
