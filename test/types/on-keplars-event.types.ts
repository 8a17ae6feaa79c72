// Checked by `tsc --noEmit` (part of `npm test`): how the decorator narrows handler types. Every
// expected error below marks a mistake TypeScript must catch; if it stops catching one, the check fails.
import {
  OnKeplarsEvent,
  type EmailBouncedEvent,
  type EmailClickedEvent,
  type EmailOpenedEvent,
  type KeplarsEvent,
  type KeplarsEventFor,
  type KeplarsEventPattern,
} from 'nestjs-keplars-webhook';

export class TypedHandlers {
  @OnKeplarsEvent('email.bounced')
  onBounced(event: EmailBouncedEvent): void {
    const kind: 'hard' | 'soft' | undefined = event.bounceType;
    void kind;
  }

  @OnKeplarsEvent('email.opened')
  async onOpened(event: KeplarsEventFor<'email.opened'>): Promise<void> {
    void event.emailId;
  }

  @OnKeplarsEvent(['email.opened', 'email.clicked'])
  onEngagement(event: EmailOpenedEvent | EmailClickedEvent): void {
    if (event.type === 'email.clicked') void event.url;
  }

  @OnKeplarsEvent('*')
  onAnything(event: KeplarsEvent): void {
    void event.body;
  }

  @OnKeplarsEvent('email.*')
  onAnyEmail(event: KeplarsEvent): void {
    void event.type;
  }

  // A type Keplars may add later: the user widens the pattern on purpose, and gets any event.
  @OnKeplarsEvent('email.reopened' as KeplarsEventPattern)
  onNewType(event: KeplarsEvent): void {
    void event;
  }
}

export class MistakenHandlers {
  // @ts-expect-error a bounce handler typed for opens
  @OnKeplarsEvent('email.opened')
  onOpened(event: EmailBouncedEvent): void {
    void event;
  }

  // @ts-expect-error a misspelled event type
  @OnKeplarsEvent('email.opend')
  onTypo(event: KeplarsEvent): void {
    void event;
  }

  // @ts-expect-error a handler of two types that accepts only one of them
  @OnKeplarsEvent(['email.opened', 'email.bounced'])
  onBoth(event: EmailOpenedEvent): void {
    void event;
  }
}

// The narrowing itself.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const checks: [
  Equals<KeplarsEventFor<'email.bounced'>, EmailBouncedEvent>,
  Equals<KeplarsEventFor<'email.opened' | 'email.clicked'>, EmailOpenedEvent | EmailClickedEvent>,
  Equals<KeplarsEventFor<'*'>, KeplarsEvent>,
  Equals<KeplarsEventFor<'email.*'>, KeplarsEvent>,
] = [true, true, true, true];
