import { Inject, Injectable, Logger } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { OnKeplarsEvent, type EmailBouncedEvent, type EmailComplainedEvent } from 'nestjs-keplars-webhook';
import { DATABASE } from '../database/database.module.js';

export type SuppressionReason = 'hard-bounce' | 'complaint';

/** An address the app must not email again, and why. */
export interface Suppression {
  address: string;
  reason: SuppressionReason;
  /** The Keplars event that put the address on the list. */
  eventId: string;
  since: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS suppressions (
    address  TEXT PRIMARY KEY,
    reason   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    since    TEXT NOT NULL
  );
`;

/**
 * Addresses that must not be emailed again: a hard bounce (the mailbox does not exist) or a spam
 * complaint. It takes `email.bounced` alongside EmailStatusService: each service gets every event.
 */
@Injectable()
export class SuppressionListService {
  private readonly logger = new Logger(SuppressionListService.name);
  private readonly upsert: Database.Statement<Record<string, string>>;
  private readonly selectAll: Database.Statement<[], Suppression>;

  constructor(@Inject(DATABASE) db: Database.Database) {
    db.exec(SCHEMA);
    // The earliest event wins, whatever order they arrive in; a repeated event changes nothing.
    this.upsert = db.prepare(`
      INSERT INTO suppressions (address, reason, event_id, since) VALUES (@address, @reason, @eventId, @since)
      ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, event_id = excluded.event_id, since = excluded.since
      WHERE (excluded.since, excluded.event_id) < (suppressions.since, suppressions.event_id)`);
    this.selectAll = db.prepare('SELECT address, reason, event_id AS eventId, since FROM suppressions ORDER BY address');
  }

  @OnKeplarsEvent(['email.bounced', 'email.complained'])
  suppress(event: EmailBouncedEvent | EmailComplainedEvent): void {
    // Only a bounce Keplars calls hard is permanent: a soft one (mailbox full) clears up by itself.
    if (event.type === 'email.bounced' && event.bounceType !== 'hard') {
      const kind = event.bounceType === 'soft' ? 'a soft bounce' : 'a bounce Keplars did not call hard';
      this.logger.log(`Not suppressing ${event.recipient ?? 'the recipient'} after ${event.id}: ${kind} may not happen again`);
      return;
    }
    if (!event.recipient) {
      // Returning (not throwing): a retry would not bring the address either.
      this.logger.warn(`Cannot suppress after ${event.type} ${event.id}: the payload names no recipient (no "to" or "recipient")`);
      return;
    }
    // Mail providers ignore the case of addresses in practice: one entry per mailbox, however it was spelled.
    const address = event.recipient.trim().toLowerCase();
    const reason: SuppressionReason = event.type === 'email.complained' ? 'complaint' : 'hard-bounce';
    this.upsert.run({ address, reason, eventId: event.id, since: event.timestamp.toISOString() });
    this.logger.log(`Suppressed ${address} (${reason}, ${event.id})`);
  }

  list(): Suppression[] {
    return this.selectAll.all();
  }
}
