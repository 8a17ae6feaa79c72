import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KnownKeplarsEvent } from 'nestjs-keplars-webhook';
import { DATABASE } from '../database/database.module.js';
import type { Sql } from '../database/sql.js';
import { isFinal, rankOf, statusAfter, type EmailStatus } from './email-status.js';

/** What `GET /emails/:emailId` answers. */
export interface EmailStatusView {
  emailId: string;
  status: EmailStatus;
  /** True once the email can no longer change status (bounced, failed, cancelled, complained). */
  final: boolean;
  recipient: string | null;
  subject: string | null;
  /** Every event received for the email, once each, in the order they happened. */
  history: EmailHistoryEntry[];
}

export interface EmailHistoryEntry {
  id: string;
  type: string;
  occurredAt: string;
  bounceType?: string;
  bounceReason?: string;
  url?: string;
  failureReason?: string;
}

// The event id is the primary key: an event is stored once even if it comes back after the webhook
// module's deduplication window. The status rank lets SQL keep the furthest status in one statement.
const TABLES = [
  `CREATE TABLE IF NOT EXISTS emails (
    email_id    text PRIMARY KEY,
    status      text NOT NULL,
    status_rank integer NOT NULL,
    recipient   text,
    subject     text
  )`,
  `CREATE TABLE IF NOT EXISTS email_events (
    event_id    text PRIMARY KEY,
    email_id    text NOT NULL,
    type        text NOT NULL,
    status_rank integer NOT NULL,
    occurred_at timestamptz NOT NULL,
    details     jsonb
  )`,
  'CREATE INDEX IF NOT EXISTS email_events_by_email ON email_events (email_id, occurred_at)',
];

interface EmailRow {
  email_id: string;
  status: EmailStatus;
  recipient: string | null;
  subject: string | null;
}

interface EventRow {
  event_id: string;
  type: string;
  occurred_at: Date;
  details: Partial<EmailHistoryEntry> | null;
}

/** Keeps each email's current status and the history of its events, from Keplars' webhooks. */
@Injectable()
export class EmailStatusService implements OnModuleInit {
  private readonly logger = new Logger(EmailStatusService.name);

  constructor(@Inject(DATABASE) private readonly db: Sql) {}

  async onModuleInit(): Promise<void> {
    for (const statement of TABLES) await this.db.query(statement);
  }

  /**
   * Adds the event to its email's history and moves the status forward. `sql` is the transaction of
   * the webhook handler that calls it (email-status.handlers.ts), so both writes commit together with
   * the handler's success mark, or none of them does.
   */
  async record(event: KnownKeplarsEvent, sql: Sql): Promise<void> {
    if (!event.emailId) {
      // Nothing to attach it to; returning (not throwing) stops Keplars from retrying it forever.
      this.logger.warn(`Ignored ${event.type} ${event.id}: the payload names no email (no email_id), so there is no email to update.`);
      return;
    }
    const status = statusAfter(event.type);
    const rank = rankOf(status);
    const details = detailsOf(event);
    const stored = await sql.query(
      `INSERT INTO email_events (event_id, email_id, type, status_rank, occurred_at, details)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [event.id, event.emailId, event.type, rank, event.timestamp.toISOString(), details ? JSON.stringify(details) : null],
    );
    if (stored.rows.length === 0) {
      this.logger.log(`${event.emailId}: ${event.type} ${event.id} was already recorded; nothing changed`);
      return;
    }
    const { rows } = await sql.query<{ status: EmailStatus }>(
      `INSERT INTO emails (email_id, status, status_rank, recipient, subject)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email_id) DO UPDATE SET
         status      = CASE WHEN excluded.status_rank > emails.status_rank THEN excluded.status ELSE emails.status END,
         status_rank = greatest(excluded.status_rank, emails.status_rank),
         recipient   = coalesce(emails.recipient, excluded.recipient),
         subject     = coalesce(emails.subject, excluded.subject)
       RETURNING status`,
      [event.emailId, status, rank, event.recipient ?? null, event.subject ?? null],
    );
    this.logger.log(`${event.emailId}: ${event.type} recorded, status ${rows[0]!.status}`);
  }

  async find(emailId: string): Promise<EmailStatusView | undefined> {
    const [email] = (await this.db.query<EmailRow>('SELECT email_id, status, recipient, subject FROM emails WHERE email_id = $1', [emailId])).rows;
    if (!email) return undefined;
    const { rows: events } = await this.db.query<EventRow>(
      'SELECT event_id, type, occurred_at, details FROM email_events WHERE email_id = $1 ORDER BY occurred_at, status_rank, event_id',
      [emailId],
    );
    const history = events.map((row) => ({ id: row.event_id, type: row.type, occurredAt: row.occurred_at.toISOString(), ...row.details }));
    return { emailId: email.email_id, status: email.status, final: isFinal(email.status), recipient: email.recipient, subject: email.subject, history };
  }
}

/** What each type adds to the history, beyond its type and time. */
function detailsOf(event: KnownKeplarsEvent): Partial<EmailHistoryEntry> | undefined {
  switch (event.type) {
    case 'email.bounced':
      return withoutUndefined({ bounceType: event.bounceType, bounceReason: event.bounceReason });
    case 'email.clicked':
      return withoutUndefined({ url: event.url });
    case 'email.failed':
      return withoutUndefined({ failureReason: event.failureReason });
    default:
      return undefined;
  }
}

function withoutUndefined<T extends object>(fields: T): Partial<T> | undefined {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return Object.keys(defined).length > 0 ? (defined as Partial<T>) : undefined;
}
