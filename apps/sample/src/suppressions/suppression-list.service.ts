import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { OnKeplarsEvent, type EmailBouncedEvent, type EmailComplainedEvent } from 'nestjs-keplars-webhook';
import { DATABASE } from '../database/database.module.js';
import type { Sql } from '../database/sql.js';

export type SuppressionReason = 'hard-bounce' | 'complaint';

/** An address the app must not email again, and why. */
export interface Suppression {
  address: string;
  reason: SuppressionReason;
  /** The Keplars event that put the address on the list. */
  eventId: string;
  since: string;
}

const TABLE = `
  CREATE TABLE IF NOT EXISTS suppressions (
    address  text PRIMARY KEY,
    reason   text NOT NULL,
    event_id text NOT NULL,
    since    timestamptz NOT NULL
  )`;

/**
 * Addresses that must not be emailed again: a hard bounce (the mailbox does not exist) or a spam
 * complaint. It takes `email.bounced` alongside the email statuses: each handler gets every event.
 *
 * Unlike the email statuses, its handler is not transactional, and needs not be: its one statement
 * gives the same list however many times it runs for an event (the earliest event wins), so running
 * again after a crash changes nothing.
 */
@Injectable()
export class SuppressionListService implements OnModuleInit {
  private readonly logger = new Logger(SuppressionListService.name);

  constructor(@Inject(DATABASE) private readonly db: Sql) {}

  async onModuleInit(): Promise<void> {
    await this.db.query(TABLE);
  }

  @OnKeplarsEvent(['email.bounced', 'email.complained'])
  async suppress(event: EmailBouncedEvent | EmailComplainedEvent): Promise<void> {
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
    // The earliest event wins, whatever order they arrive in; a repeated event changes nothing.
    await this.db.query(
      `INSERT INTO suppressions (address, reason, event_id, since) VALUES ($1, $2, $3, $4)
       ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, event_id = excluded.event_id, since = excluded.since
       WHERE (excluded.since, excluded.event_id) < (suppressions.since, suppressions.event_id)`,
      [address, reason, event.id, event.timestamp.toISOString()],
    );
    this.logger.log(`Suppressed ${address} (${reason}, ${event.id})`);
  }

  async list(): Promise<Suppression[]> {
    const { rows } = await this.db.query<{ address: string; reason: SuppressionReason; event_id: string; since: Date }>(
      // Byte order ("C"), so the list reads the same on every database whatever its locale.
      'SELECT address, reason, event_id, since FROM suppressions ORDER BY address COLLATE "C"',
    );
    return rows.map((row) => ({ address: row.address, reason: row.reason, eventId: row.event_id, since: row.since.toISOString() }));
  }
}
