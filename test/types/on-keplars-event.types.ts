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
import type { Transaction } from '@electric-sql/pglite';
import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';

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

// Transactional handlers (SPEC §4b): the handler's second parameter says what it gets.
export class TransactionalHandlers {
  @OnKeplarsEvent('email.bounced', { transaction: 'pg' })
  async withClient(event: EmailBouncedEvent, client: PoolClient): Promise<void> {
    await client.query('SELECT 1');
    void event.bounceType;
  }

  @OnKeplarsEvent('email.opened', { transaction: 'typeorm', endpoint: 'eu' })
  async withManager(event: EmailOpenedEvent, manager: EntityManager): Promise<void> {
    await manager.query('SELECT 1');
  }

  @OnKeplarsEvent('*', { transaction: 'pglite' })
  async withPGlite(event: KeplarsEvent, transaction: Transaction): Promise<void> {
    await transaction.query('SELECT 1');
  }
}

export class MistakenTransactionalHandlers {
  // @ts-expect-error a handler asking for a pg client but typed for an EntityManager
  @OnKeplarsEvent('email.bounced', { transaction: 'pg' })
  async wrongKind(event: EmailBouncedEvent, manager: EntityManager): Promise<void> {
    void [event, manager];
  }

  // @ts-expect-error a transactional handler typed for the wrong event
  @OnKeplarsEvent('email.opened', { transaction: 'pg' })
  async wrongEvent(event: EmailBouncedEvent, client: PoolClient): Promise<void> {
    void [event, client];
  }

  // @ts-expect-error a transactional handler must return a promise (its transaction commits when it settles)
  @OnKeplarsEvent('email.opened', { transaction: 'pg' })
  notAsync(event: EmailOpenedEvent, client: PoolClient): void {
    void [event, client];
  }

  // @ts-expect-error not a kind of transaction the module knows
  @OnKeplarsEvent('email.opened', { transaction: 'mysql' })
  async unknownKind(event: EmailOpenedEvent, client: PoolClient): Promise<void> {
    void [event, client];
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
