import { Controller, Get } from '@nestjs/common';
import { EngagementService, type RecordedOpen } from './engagement.service';

@Controller('engagement')
export class EngagementController {
  constructor(private readonly engagement: EngagementService) {}

  @Get('opens')
  opens(): readonly RecordedOpen[] {
    return this.engagement.recentOpens();
  }
}
