import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type EmailOpenedEvent } from 'nestjs-keplars-webhook';

export interface RecordedOpen {
  readonly eventId: string;
  readonly recipient: string | undefined;
  readonly openedAt: string;
  readonly via: 'OnKeplarsEvent';
}

@Injectable()
export class EngagementService {
  private readonly opens: RecordedOpen[] = [];

  @OnKeplarsEvent('email.opened')
  async recordOpen(event: EmailOpenedEvent): Promise<void> {
    this.opens.push({ eventId: event.id, recipient: event.recipient, openedAt: event.timestamp.toISOString(), via: 'OnKeplarsEvent' });
  }

  recentOpens(): readonly RecordedOpen[] {
    return this.opens;
  }
}
