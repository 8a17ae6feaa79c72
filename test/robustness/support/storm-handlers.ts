import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/** The handlers of the storm and the types each takes (as their decorators below say). */
export const STORM_HANDLERS = {
  audit: ['*'],
  engagement: ['email.delivered', 'email.opened', 'email.clicked'],
  bounces: ['email.bounced', 'email.failed', 'email.complained'],
} as const satisfies Record<string, readonly string[]>;

export type StormHandlerName = keyof typeof STORM_HANDLERS;

export function handlersTaking(type: string): StormHandlerName[] {
  return (Object.keys(STORM_HANDLERS) as StormHandlerName[]).filter((name) =>
    (STORM_HANDLERS[name] as readonly string[]).some((pattern) => pattern === '*' || pattern === type),
  );
}

/**
 * What the handlers did, counted inside them, per handler and event id. One ledger is shared by every
 * app instance of a run, as a real downstream would be.
 */
export class StormLedger {
  readonly attempts = new Map<string, number>();
  readonly successes = new Map<string, number>();
  /** Every event id a handler saw for an email id: one each, or a duplicate got a different id. */
  readonly idsByEmail = new Map<string, Set<string>>();
  invocations = 0;
  failures = 0;

  constructor(
    readonly seed: number,
    /** The share of handler invocations that throw. */
    readonly failureRate: number,
  ) {}

  static key(handler: StormHandlerName, eventId: string): string {
    return `${handler} ${eventId}`;
  }
}

export const STORM_LEDGER = Symbol('STORM_LEDGER');

/**
 * Three handlers that fail a seeded share of their invocations. Whether one fails is a hash of the
 * seed, the handler, the event id and which attempt of that handler on that event it is: the same
 * seed fails the same attempts whatever order the requests arrive in.
 */
@Injectable()
export class StormHandlers {
  constructor(@Inject(STORM_LEDGER) private readonly ledger: StormLedger) {}

  @OnKeplarsEvent('*')
  audit(event: KeplarsEvent): Promise<void> {
    return this.run('audit', event);
  }

  @OnKeplarsEvent(['email.delivered', 'email.opened', 'email.clicked'])
  engagement(event: KeplarsEvent): Promise<void> {
    return this.run('engagement', event);
  }

  @OnKeplarsEvent(['email.bounced', 'email.failed', 'email.complained'])
  bounces(event: KeplarsEvent): Promise<void> {
    return this.run('bounces', event);
  }

  private async run(handler: StormHandlerName, event: KeplarsEvent): Promise<void> {
    const { ledger } = this;
    const key = StormLedger.key(handler, event.id);
    const attempt = (ledger.attempts.get(key) ?? 0) + 1;
    ledger.attempts.set(key, attempt);
    ledger.invocations++;
    const ids = ledger.idsByEmail.get(String(event.emailId)) ?? new Set<string>();
    ledger.idsByEmail.set(String(event.emailId), ids.add(event.id));

    const roll = createHash('sha256').update(`${ledger.seed}:${handler}:${event.id}:${attempt}`).digest();
    // A few milliseconds of work, so that concurrent duplicates overlap a running delivery.
    await new Promise((resolve) => setTimeout(resolve, roll[4]! % 4));
    if (roll.readUInt32BE(0) / 2 ** 32 < ledger.failureRate) {
      ledger.failures++;
      throw new Error(`${handler} failed (injected) on attempt ${attempt} of ${event.id}`);
    }
    ledger.successes.set(key, (ledger.successes.get(key) ?? 0) + 1);
  }
}
