import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type EmailBouncedEvent, type EmailOpenedEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/** Handlers that record what they received, as an app's own services would act on it. */
@Injectable()
export class RecordingHandlers {
  readonly opened: EmailOpenedEvent[] = [];
  readonly bounced: EmailBouncedEvent[] = [];
  readonly everything: KeplarsEvent[] = [];
  readonly emailEvents: KeplarsEvent[] = [];

  @OnKeplarsEvent('email.opened')
  onOpened(event: EmailOpenedEvent): void {
    this.opened.push(event);
  }

  @OnKeplarsEvent(['email.bounced'])
  async onBounced(event: EmailBouncedEvent): Promise<void> {
    await Promise.resolve();
    this.bounced.push(event);
  }

  @OnKeplarsEvent('*')
  onAnything(event: KeplarsEvent): void {
    this.everything.push(event);
  }

  @OnKeplarsEvent('email.*')
  onEmail(event: KeplarsEvent): void {
    this.emailEvents.push(event);
  }

  runs(): number {
    return this.opened.length + this.bounced.length + this.everything.length + this.emailEvents.length;
  }
}
