import type { EmailStatus } from './email-status.js';
import type { LedgerEntry, LedgerScope, TimelineDetails } from './ledger-entry.js';
import type { ListedAddress, SuppressionPolicy, SuppressionReason, SuppressionSignal } from './suppression-policy.js';

/** One distinct event on an email's timeline. */
export interface EmailTimelineEvent extends TimelineDetails {
  /** The event's id (Keplars', or the one derived from its content). */
  readonly eventId: string;
  /** Its type, e.g. `'email.opened'`, known or not. */
  readonly type: string;
  /** When it happened (the payload's timestamp). */
  readonly occurredAt: Date;
}

/** Opens or clicks of one email: each event counted once, with the first and last time. */
export interface EmailEngagement {
  /** Distinct events: a retried or copied event counts once. */
  readonly count: number;
  /** The earliest of them, by the events' times. */
  readonly first: Date | undefined;
  /** The latest of them. */
  readonly last: Date | undefined;
}

/** One email as the ledger knows it. */
export interface LedgerEmail {
  /** The endpoint (module import) whose events it came from. */
  readonly endpoint: string;
  /** `undefined` on an endpoint without tenants. */
  readonly tenant: string | undefined;
  /** Keplars' email id. */
  readonly emailId: string;
  /** The furthest status its events gave it; `undefined` while it has only events of types outside the order. */
  readonly status: EmailStatus | undefined;
  /** Whether the status is final (cancelled, failed, bounced, complained). */
  readonly final: boolean;
  /** From the earliest event that named one. */
  readonly recipient: string | undefined;
  /** From the earliest event that named one. */
  readonly subject: string | undefined;
  /** `email.opened` events. */
  readonly opens: EmailEngagement;
  /** `email.clicked` events. */
  readonly clicks: EmailEngagement;
  /** How many distinct events it has had. */
  readonly events: number;
  /** The time of its earliest event. */
  readonly firstEventAt: Date;
  /** The time of its latest event. */
  readonly lastEventAt: Date;
}

/** An email with its timeline, oldest first. */
export interface LedgerEmailWithTimeline extends LedgerEmail {
  /** Every distinct event, by time (then id). */
  readonly timeline: readonly EmailTimelineEvent[];
}

/** An address on the suppression list, as of now. */
export interface ActiveSuppression {
  /** Why: a hard bounce, a complaint, soft bounces past the threshold, or by hand. */
  readonly reason: SuppressionReason;
  /** Since when (the time of the event that caused it, or of the `suppress()` call). */
  readonly since: Date;
  /** When it lapses by itself (`expireAfterDays`, or `suppress(…, { expiresAt })`); `undefined`: until reactivated. */
  readonly expiresAt: Date | undefined;
  /** The event that caused it (not for a manual one). */
  readonly eventId: string | undefined;
  /** Who suppressed it by hand, and why in their words. */
  readonly actor: string | undefined;
  /** Their reason, for a manual one. */
  readonly note: string | undefined;
}

/** A suppressed address, as the list shows it. */
export interface StoredSuppression extends ActiveSuppression {
  /** `undefined` once the address was forgotten (only its hash is kept). */
  readonly address: string | undefined;
  /** The keyed hash the list knows it by (stays after `forget`). */
  readonly addressHash: string;
}

/** One change to an address's place on the list, as recorded when it happened. */
export interface SuppressionChange {
  /** When the change was made (the database's clock). */
  readonly at: Date;
  /** What happened to the address. */
  readonly change: 'suppressed' | 'reactivated' | 'forgotten';
  /** `undefined` once the address was forgotten. */
  readonly address: string | undefined;
  /** Why it was suppressed (for `suppressed`). */
  readonly reason: SuppressionReason | undefined;
  /** The event whose arrival made the change, when an event did. */
  readonly eventId: string | undefined;
  /** That event's email. */
  readonly emailId: string | undefined;
  /** Who made a manual change. */
  readonly actor: string | undefined;
  /** Their reason, in their words. */
  readonly note: string | undefined;
}

/** A page of a list, and the cursor of the next (absent on the last). */
export interface LedgerPage<T> {
  /** This page's items. */
  readonly items: readonly T[];
  /** Pass as `cursor` for the next page; `undefined` on the last. */
  readonly next: string | undefined;
}

/** Which page: at most `limit` items after `cursor`. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor: string | undefined;
}

/** A manual change: who made it, why, and (for `suppress`) until when. */
export interface ManualChange {
  readonly actor: string;
  readonly note: string | undefined;
  readonly expiresAt?: Date | undefined;
}

/** What recording one event did. */
export interface LedgerWrite {
  /** False when the ledger already had the event: nothing changed. */
  readonly recorded: boolean;
  /** The address it moved onto the list, if it did. */
  readonly suppressed: SuppressionChange | undefined;
}

/**
 * Where the email ledger and the suppression list live (SPEC §8). Every operation is atomic per email
 * and per address. Writes of events are idempotent by event id and commutative: the state after any
 * set of events is the same whatever order they were recorded in.
 */
export interface EmailLedgerStore {
  /**
   * Records one event on its email (and the list), once: the event's id is the timeline's key, so a
   * retry, a copy or a run after a crash finds it there and changes nothing. On a database the event's
   * writes commit together (one statement or one transaction), which makes the ledger exact (SPEC §4b).
   */
  record(entry: LedgerEntry, signal: SuppressionSignal | undefined, policy: SuppressionPolicy): Promise<LedgerWrite>;
  email(scope: LedgerScope, emailId: string): Promise<LedgerEmailWithTimeline | undefined>;
  /** An endpoint's emails, the most recently started first (by their first event); of every tenant when `tenant` is undefined. */
  emails(endpoint: string, tenant: string | undefined, page: PageRequest): Promise<LedgerPage<LedgerEmail>>;
  /** The active suppressions of these hashes, now. */
  check(scope: LedgerScope, hashes: readonly string[]): Promise<ReadonlyMap<string, ActiveSuppression>>;
  /** Suppressed addresses, most recent first. */
  suppressions(scope: LedgerScope, page: PageRequest): Promise<LedgerPage<StoredSuppression>>;
  /**
   * Suppresses by hand (a cause of its own, on top of any other), always recording the change; `newly`
   * says whether the address was not suppressed before.
   */
  suppress(scope: LedgerScope, address: ListedAddress, change: ManualChange): Promise<{ readonly newly: boolean; readonly change: SuppressionChange }>;
  /** Lifts every suppression of the address so far; returns the change when it was suppressed. */
  reactivate(scope: LedgerScope, address: ListedAddress, change: ManualChange): Promise<SuppressionChange | undefined>;
  /** Every change to the address's place on the list, oldest first. */
  changes(scope: LedgerScope, hash: string): Promise<readonly SuppressionChange[]>;
  /** The suppressions recording this event made (what `@OnAddressSuppressed()` handlers are told). */
  suppressedBy(scope: LedgerScope, eventId: string): Promise<readonly SuppressionChange[]>;
  /** Erases the address from every email and change of every scope; its suppressions stay, by hash. Returns how many emails it was on. */
  forget(address: ListedAddress): Promise<number>;
  /** Deletes emails whose last event is older than `before`, with their timelines; returns how many. */
  prune(before: Date): Promise<number>;
  /** The key of the list's address hashes, made once per store. */
  hashKey(): Promise<Buffer>;
}
