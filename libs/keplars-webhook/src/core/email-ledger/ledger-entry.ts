import type { KeplarsEvent } from '../0-event/keplars-event.js';
import { rankOfStatus, statusOfType } from './email-status.js';

/**
 * Whose emails and addresses these are: the endpoint (module import) and tenant that received the
 * events (SPEC §7). Two accounts' `email_456` are two emails. A tenant of `''` means none.
 */
export interface LedgerScope {
  readonly endpoint: string;
  readonly tenant: string;
}

/** What an event adds to its email's timeline beyond its type and time: the type's own fields. */
export interface TimelineDetails {
  /** `email.bounced`: `'hard'` or `'soft'`, when Keplars said which. */
  readonly bounceType?: 'hard' | 'soft';
  /** `email.bounced`: the mail server's reason. */
  readonly bounceReason?: string;
  /** `email.clicked`: the link. */
  readonly url?: string;
  /** `email.failed`: why sending failed. */
  readonly failureReason?: string;
}

/** One event as the ledger records it: everything a store needs, nothing of the wire. */
export interface LedgerEntry {
  readonly scope: LedgerScope;
  readonly eventId: string;
  readonly emailId: string;
  readonly type: string;
  readonly occurredAt: Date;
  /** The status rank the event gives its email (`NO_STATUS_RANK` for a type outside the order). */
  readonly rank: number;
  readonly details: TimelineDetails;
  /** The recipient as Keplars wrote it. */
  readonly recipient: string | undefined;
  readonly subject: string | undefined;
  /** Whether it counts as an open or a click. */
  readonly engagement: 'open' | 'click' | undefined;
}

/** The ledger scope of an event. */
export function scopeOf(event: Pick<KeplarsEvent, 'endpoint' | 'tenant'>): LedgerScope {
  return { endpoint: event.endpoint, tenant: event.tenant ?? '' };
}

/** The entry an event makes, or `undefined` when it names no email (nothing to attach it to). */
export function ledgerEntryOf(event: KeplarsEvent): LedgerEntry | undefined {
  const emailId = text(event.emailId);
  if (emailId === undefined) return undefined;
  return {
    scope: scopeOf(event),
    eventId: text(event.id) ?? '',
    emailId,
    type: text(event.type) ?? '',
    occurredAt: event.timestamp,
    rank: rankOfStatus(statusOfType(event.type)),
    details: detailsOf(event),
    recipient: text(event.recipient),
    subject: text(event.subject),
    engagement: event.type === 'email.opened' ? 'open' : event.type === 'email.clicked' ? 'click' : undefined,
  };
}

const NO_DETAILS: TimelineDetails = Object.freeze({});

/**
 * A field as the ledger keeps it: a non-empty string without NUL characters (which Postgres' text
 * refuses), or nothing. The wire's fields are whatever Keplars put there: a list or an object where a
 * string belongs is left out rather than failing the event (and, on Postgres, its turn's neighbours).
 */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clean = value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  return clean === '' ? undefined : clean;
}

function detailsOf(event: KeplarsEvent): TimelineDetails {
  const fields: { -readonly [K in keyof TimelineDetails]: TimelineDetails[K] } = {};
  switch (event.type) {
    case 'email.bounced':
      if ('bounceType' in event && (event.bounceType === 'hard' || event.bounceType === 'soft')) fields.bounceType = event.bounceType;
      if ('bounceReason' in event) fields.bounceReason = text(event.bounceReason);
      break;
    case 'email.clicked':
      if ('url' in event) fields.url = text(event.url);
      break;
    case 'email.failed':
      if ('failureReason' in event) fields.failureReason = text(event.failureReason);
      break;
    default:
      return NO_DETAILS;
  }
  for (const key of Object.keys(fields) as (keyof TimelineDetails)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}
