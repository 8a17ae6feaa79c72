import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type EmailBouncedEvent, type KeplarsEvent, type KeplarsEventPattern } from 'nestjs-keplars-webhook';

/** Handlers of an app with several Keplars accounts: some take every endpoint's events, some one's. */
@Injectable()
export class EndpointHandlers {
  readonly everything: KeplarsEvent[] = [];
  readonly euBounces: EmailBouncedEvent[] = [];
  readonly usBounces: EmailBouncedEvent[] = [];
  readonly acmeEvents: KeplarsEvent[] = [];

  @OnKeplarsEvent('*')
  async onAnything(event: KeplarsEvent): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2)); // slow enough for concurrent duplicates to overlap
    this.everything.push(event);
  }

  @OnKeplarsEvent('email.bounced', { endpoint: 'eu' })
  onEuBounce(event: EmailBouncedEvent): void {
    this.euBounces.push(event);
  }

  @OnKeplarsEvent('email.bounced', { endpoint: ['us'] })
  onUsBounce(event: EmailBouncedEvent): void {
    this.usBounces.push(event);
  }

  /** A likely typo: the module warns of it at startup, once, however many endpoints there are. */
  @OnKeplarsEvent('email.bouncd' as KeplarsEventPattern)
  onTypo(_event: KeplarsEvent): void {}

  /** How many times `onAnything` ran for this endpoint (and tenant) and id. */
  runs(endpoint: string, id: string, tenant?: string): number {
    return this.everything.filter((event) => event.endpoint === endpoint && event.id === id && event.tenant === tenant).length;
  }
}
