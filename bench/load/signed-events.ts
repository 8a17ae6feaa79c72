import { randomBytes } from 'node:crypto';
import { buildKeplarsPayload, keplarsSignatureHeaders } from '../../libs/keplars-webhook/src/testing/index.js';
import { BENCH_SECRET } from '../bench-config.js';

const ID_SLOT = '@@EVENT_ID@@';

export interface SignedEvent {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Bodies Keplars would send, each with an event id never used before (so deduplication does real
 * work), all of one size (~285 bytes, envelope shape), each with its own signature. Built here, in
 * the load generator's process, from one template: only the id changes.
 *
 * Signing costs the load generator about as much as the HTTP work itself, so a run can have its
 * events signed beforehand (`prepare`): the generator then keeps up with the fastest target. Each
 * event is still used once; past the prepared ones, `next()` signs as it goes.
 */
export class SignedEventSource {
  private readonly head: string;
  private readonly tail: string;
  /** Ids of different runs (and of warm-ups) never collide on a server that stays up. */
  private readonly prefix = `evt_${randomBytes(3).toString('hex')}`;
  private sequence = 0;
  private prepared: SignedEvent[] = [];
  private nextPrepared = 0;

  constructor() {
    const template = JSON.stringify(
      buildKeplarsPayload('email.delivered', {
        id: ID_SLOT,
        emailId: 'email_7f3a9b2c1d4e5f60',
        recipient: 'user@example.com',
        subject: 'Your order #1042 is confirmed',
        timestamp: '2025-06-15T14:23:01.123Z',
        metadata: { campaign: 'spring-sale', user_id: 'usr_42' },
      }),
    );
    [this.head, this.tail] = template.split(ID_SLOT) as [string, string];
  }

  /** Signs `count` events ahead (dropping any prepared ones left unused). */
  prepare(count: number): void {
    this.prepared = Array.from({ length: count }, () => this.sign());
    this.nextPrepared = 0;
  }

  /** The next distinct event: its JSON body and the headers Keplars sends with it. */
  next(): SignedEvent {
    return this.nextPrepared < this.prepared.length ? this.prepared[this.nextPrepared++]! : this.sign();
  }

  get bodyBytes(): number {
    return Buffer.byteLength(this.head + this.prefix + '0'.repeat(10) + this.tail);
  }

  private sign(): SignedEvent {
    const id = `${this.prefix}${(this.sequence++).toString(16).padStart(10, '0')}`;
    const body = this.head + id + this.tail;
    return { body, headers: { 'content-type': 'application/json', ...keplarsSignatureHeaders(body, BENCH_SECRET) } };
  }
}
