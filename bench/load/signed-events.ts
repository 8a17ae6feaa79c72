import { randomBytes } from 'node:crypto';
import { buildKeplarsPayload, keplarsSignatureHeaders } from '../../libs/keplars-webhook/src/testing/index.js';
import { BENCH_SECRET } from '../bench-config.js';

const ID_SLOT = '@@EVENT_ID@@';
const EMAIL_SLOT = '@@EMAIL_ID@@';
const TO_SLOT = '@@TO@@';
const TIME_SLOT = '@@TIMESTAMP@@';

export interface SignedEvent {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Which emails the bodies are about. `'one'`: every body is the same `email.delivered` of one email,
 * only the event id changes (what the module's targets have always been measured with: the email id
 * means nothing to them). `'many'`: the lifecycles of many emails, interleaved, as a ledger receives
 * them (see {@link EmailMix}); for `module-ledger-postgres`, where one email for every event would make
 * its row a hot spot no real workload has.
 */
export type BenchEmails = 'one' | 'many';

/**
 * Bodies Keplars would send, each with an event id never used before (so deduplication does real
 * work), all of one size (~285 bytes, envelope shape), each with its own signature. Built here, in
 * the load generator's process, from one template: only the id changes. With `'many'` emails, from one
 * template per type of the mix, the email id, recipient and time changing too (sizes vary a little).
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
  private readonly mix: EmailMix | undefined;
  private sequence = 0;
  private prepared: SignedEvent[] = [];
  private nextPrepared = 0;

  constructor(readonly emails: BenchEmails = 'one') {
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
    this.mix = emails === 'many' ? new EmailMix() : undefined;
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

  /** The size of a body (with `'many'`, the mean over the mix's types, weighted as they come). */
  get bodyBytes(): number {
    return this.mix?.meanBodyBytes(this.prefix.length + 10) ?? Buffer.byteLength(this.head + this.prefix + '0'.repeat(10) + this.tail);
  }

  private sign(): SignedEvent {
    const id = `${this.prefix}${(this.sequence++).toString(16).padStart(10, '0')}`;
    const body = this.mix ? this.mix.nextBody(id) : this.head + id + this.tail;
    return { body, headers: { 'content-type': 'application/json', ...keplarsSignatureHeaders(body, BENCH_SECRET) } };
  }
}

/** One kind of event of the mix, as a template split at its slots. */
interface EventTemplate {
  readonly parts: readonly string[];
  readonly slots: readonly string[];
}

/** An email whose lifecycle is under way: the rest of its events, in order. */
interface EmailInFlight {
  readonly emailId: string;
  readonly recipient: string;
  readonly steps: readonly string[];
  next: number;
}

/** Emails whose lifecycles are under way at once: an event goes to one of them, picked at random. */
const EMAILS_IN_FLIGHT = 2000;
/** Distinct recipients: a soft bounce now and then meets an earlier one of the same address. */
const RECIPIENTS = 50_000;
const TEMPLATE_KINDS = ['email.queued', 'email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'hard-bounce', 'soft-bounce', 'email.complained', 'email.failed'] as const;
type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/**
 * The bodies of many emails, interleaved: each email goes through queued, sent, then mostly delivered
 * and opened (0-3 times, 40/30/20/10 %), a click after an open now and then (30 %); 4 % bounce hard,
 * 8 % soft, 1 % complain after an open, 2 % fail. About 4 events per email, a quarter of them opens.
 * 2,000 emails are in flight at once and each event goes to one of them at random, so two events of one
 * email rarely arrive together (as in life, where they are seconds to days apart), yet every email gets
 * its whole lifecycle. Deterministic (a fixed seed), so every run sends the same mix.
 */
export class EmailMix {
  private readonly templates: ReadonlyMap<TemplateKind, EventTemplate>;
  private readonly inFlight: EmailInFlight[] = [];
  private readonly emailPrefix = randomBytes(3).toString('hex');
  /** A day ago: every time stays in the past, yet recent (within the ledger's retention and its soft-bounce window). */
  private readonly startedAt = Date.now() - 86_400_000;
  private emails = 0;
  private events = 0;
  private state = 0x2f6b_1d3a;

  constructor() {
    this.templates = new Map(TEMPLATE_KINDS.map((kind) => [kind, templateOf(kind)]));
    for (let index = 0; index < EMAILS_IN_FLIGHT; index++) this.inFlight.push(this.newEmail());
  }

  nextBody(eventId: string): string {
    const slot = Math.floor(this.random() * this.inFlight.length);
    const email = this.inFlight[slot]!;
    const kind = email.steps[email.next++] as TemplateKind;
    if (email.next === email.steps.length) this.inFlight[slot] = this.newEmail();
    // 3 ms apart: a day's worth after 28 million events.
    const timestamp = new Date(this.startedAt + this.events++ * 3).toISOString();
    const values: Record<string, string> = { [ID_SLOT]: eventId, [EMAIL_SLOT]: email.emailId, [TO_SLOT]: email.recipient, [TIME_SLOT]: timestamp };
    const { parts, slots } = this.templates.get(kind)!;
    let body = parts[0]!;
    for (let index = 0; index < slots.length; index++) body += values[slots[index]!]! + parts[index + 1]!;
    return body;
  }

  /** The mean body size over a long run of the mix (ids of `idLength` characters). */
  meanBodyBytes(idLength: number): number {
    const sample = new EmailMix();
    let bytes = 0;
    const count = 20_000;
    for (let index = 0; index < count; index++) bytes += Buffer.byteLength(sample.nextBody('e'.repeat(idLength)));
    return Math.round(bytes / count);
  }

  private newEmail(): EmailInFlight {
    const emailId = `email_${this.emailPrefix}${(this.emails++).toString(16).padStart(10, '0')}`;
    const recipient = `u${String(Math.floor(this.random() * RECIPIENTS)).padStart(5, '0')}@example.com`;
    const roll = this.random();
    const steps: TemplateKind[] = ['email.queued'];
    if (roll < 0.02) steps.push('email.failed');
    else if (roll < 0.06) steps.push('email.sent', 'hard-bounce');
    else if (roll < 0.14) steps.push('email.sent', 'soft-bounce');
    else if (roll < 0.15) steps.push('email.sent', 'email.delivered', 'email.opened', 'email.complained');
    else {
      steps.push('email.sent', 'email.delivered');
      const opensRoll = this.random();
      const opens = opensRoll < 0.4 ? 0 : opensRoll < 0.7 ? 1 : opensRoll < 0.9 ? 2 : 3;
      for (let open = 0; open < opens; open++) {
        steps.push('email.opened');
        if (this.random() < 0.3) steps.push('email.clicked');
      }
    }
    return { emailId, recipient, steps, next: 0 };
  }

  /** mulberry32: the same mix on every run. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

function templateOf(kind: TemplateKind): EventTemplate {
  const type = kind === 'hard-bounce' || kind === 'soft-bounce' ? 'email.bounced' : kind;
  const json = JSON.stringify(
    buildKeplarsPayload(type, {
      id: ID_SLOT,
      emailId: EMAIL_SLOT,
      recipient: TO_SLOT,
      subject: 'Your order #1042 is confirmed',
      timestamp: TIME_SLOT,
      metadata: { campaign: 'spring-sale', user_id: 'usr_42' },
      ...(kind === 'hard-bounce' ? { bounceType: 'hard' as const } : kind === 'soft-bounce' ? { bounceType: 'soft' as const } : {}),
    }),
  );
  const pattern = new RegExp([ID_SLOT, EMAIL_SLOT, TO_SLOT, TIME_SLOT].join('|'), 'g');
  return { parts: json.split(pattern), slots: json.match(pattern) ?? [] };
}
