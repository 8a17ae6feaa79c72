import { Inject, Injectable, Logger } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { KEPLARS_EVENT_TYPES, OnKeplarsEvent, type KnownKeplarsEvent } from 'nestjs-keplars-webhook';
import { DATABASE } from '../database/database.module.js';
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

// The event id is the primary key: a delivery Keplars retries is stored once, even without the
// module's deduplication. The status rank lets SQL keep the furthest status in one statement.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS emails (
    email_id    TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    recipient   TEXT,
    subject     TEXT
  );
  CREATE TABLE IF NOT EXISTS email_events (
    event_id    TEXT PRIMARY KEY,
    email_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    details     TEXT
  );
  CREATE INDEX IF NOT EXISTS email_events_by_email ON email_events (email_id, occurred_at);
`;

interface EmailRow {
  email_id: string;
  status: EmailStatus;
  recipient: string | null;
  subject: string | null;
}

interface EventRow {
  event_id: string;
  type: string;
  occurred_at: string;
  details: string | null;
}

/** Keeps each email's current status and the history of its events, from Keplars' webhooks. */
@Injectable()
export class EmailStatusService {
  private readonly logger = new Logger(EmailStatusService.name);
  private readonly saveEvent: Database.Transaction<(event: KnownKeplarsEvent, emailId: string) => EmailStatus | undefined>;
  private readonly selectEmail: Database.Statement<[string], EmailRow>;
  private readonly selectHistory: Database.Statement<[string], EventRow>;

  constructor(@Inject(DATABASE) db: Database.Database) {
    db.exec(SCHEMA);
    const insertEvent = db.prepare(`
      INSERT INTO email_events (event_id, email_id, type, status_rank, occurred_at, details)
      VALUES (@id, @emailId, @type, @rank, @occurredAt, @details)
      ON CONFLICT (event_id) DO NOTHING`);
    const upsertEmail = db.prepare<Record<string, unknown>, { status: EmailStatus }>(`
      INSERT INTO emails (email_id, status, status_rank, recipient, subject)
      VALUES (@emailId, @status, @rank, @recipient, @subject)
      ON CONFLICT (email_id) DO UPDATE SET
        status      = CASE WHEN excluded.status_rank > emails.status_rank THEN excluded.status ELSE emails.status END,
        status_rank = max(excluded.status_rank, emails.status_rank),
        recipient   = coalesce(emails.recipient, excluded.recipient),
        subject     = coalesce(emails.subject, excluded.subject)
      RETURNING status`);

    // One transaction, so the history and the status never disagree. Undefined: seen before, nothing changed.
    this.saveEvent = db.transaction((event: KnownKeplarsEvent, emailId: string) => {
      const status = statusAfter(event.type);
      const rank = rankOf(status);
      const details = detailsOf(event);
      const stored = insertEvent.run({
        id: event.id,
        emailId,
        type: event.type,
        rank,
        occurredAt: event.timestamp.toISOString(),
        details: details ? JSON.stringify(details) : null,
      });
      if (stored.changes === 0) return undefined;
      return upsertEmail.get({ emailId, status, rank, recipient: event.recipient ?? null, subject: event.subject ?? null })!.status;
    });
    this.selectEmail = db.prepare('SELECT email_id, status, recipient, subject FROM emails WHERE email_id = ?');
    this.selectHistory = db.prepare(
      'SELECT event_id, type, occurred_at, details FROM email_events WHERE email_id = ? ORDER BY occurred_at, status_rank, event_id',
    );
  }

  // Every type the module knows. A type Keplars adds later has no place in the status order yet, so it is left out.
  @OnKeplarsEvent(KEPLARS_EVENT_TYPES)
  record(event: KnownKeplarsEvent): void {
    if (!event.emailId) {
      // Nothing to attach it to; returning (not throwing) stops Keplars from retrying it forever.
      this.logger.warn(`Ignored ${event.type} ${event.id}: the payload names no email (no email_id), so there is no email to update.`);
      return;
    }
    const status = this.saveEvent(event, event.emailId);
    if (status === undefined) this.logger.log(`${event.emailId}: ${event.type} ${event.id} was already recorded; nothing changed`);
    else this.logger.log(`${event.emailId}: ${event.type} recorded, status ${status}`);
  }

  find(emailId: string): EmailStatusView | undefined {
    const email = this.selectEmail.get(emailId);
    if (!email) return undefined;
    const history = this.selectHistory.all(emailId).map((row) => ({
      id: row.event_id,
      type: row.type,
      occurredAt: row.occurred_at,
      ...(row.details ? (JSON.parse(row.details) as Partial<EmailHistoryEntry>) : {}),
    }));
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
