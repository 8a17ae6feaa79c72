import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { OnKeplarsEvent, type EmailOpenedEvent } from 'nestjs-keplars-webhook';

export interface RecordedOpen {
  readonly eventId: string;
  readonly recipient: string | undefined;
  readonly openedAt: string;
  /** Which listener saw it: the module's decorator or @nestjs/event-emitter. */
  readonly via: 'OnKeplarsEvent' | 'OnEvent';
}

@Injectable()
export class EngagementService {
  private readonly opens: RecordedOpen[] = [];

  @OnKeplarsEvent('email.opened')
  async recordOpen(event: EmailOpenedEvent): Promise<void> {
    this.opens.push({ eventId: event.id, recipient: event.recipient, openedAt: event.timestamp.toISOString(), via: 'OnKeplarsEvent' });
  }

  @OnEvent('keplars.email.opened')
  noteEmittedOpen(event: EmailOpenedEvent): void {
    this.opens.push({ eventId: event.id, recipient: event.recipient, openedAt: event.timestamp.toISOString(), via: 'OnEvent' });
  }

  recentOpens(): readonly RecordedOpen[] {
    return this.opens;
  }
}
