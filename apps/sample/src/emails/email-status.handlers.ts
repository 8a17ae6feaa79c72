import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { FactoryProvider } from '@nestjs/common';
import { KEPLARS_EVENT_TYPES, OnKeplarsEvent, type KnownKeplarsEvent } from 'nestjs-keplars-webhook';
import type { PoolClient } from 'pg';
import { DATABASE } from '../database/database.module.js';
import type { Database } from '../database/open-database.js';
import { EmailStatusService } from './email-status.service.js';

// The webhook handler of the email statuses is transactional: it runs inside the transaction that
// records its own success, so an event's history row, its status and that mark commit together or
// not at all. A retry, a copy arriving at the same time or a crash can neither record an event twice
// nor lose it.
//
// Which transaction it gets is written in the decorator ('pg' gives a PoolClient, 'pglite' a PGlite
// Transaction), and the sample runs on either. So there is one two-line class per database, both
// handing the transaction to the same EmailStatusService.record(), and the provider below creates
// the one that fits the database the app opened. An app on one database needs only its own class.

/** On Postgres (DATABASE_URL set): the handler gets the pool's client of the open transaction. */
export class RecordEmailStatusOnPostgres {
  constructor(private readonly emails: EmailStatusService) {}

  // Every type the module knows. A type Keplars adds later has no place in the status order yet, so it is left out.
  @OnKeplarsEvent(KEPLARS_EVENT_TYPES, { transaction: 'pg' })
  record(event: KnownKeplarsEvent, client: PoolClient): Promise<void> {
    return this.emails.record(event, client);
  }
}

/** On the embedded PGlite: the handler gets PGlite's open Transaction. */
export class RecordEmailStatusOnPGlite {
  constructor(private readonly emails: EmailStatusService) {}

  @OnKeplarsEvent(KEPLARS_EVENT_TYPES, { transaction: 'pglite' })
  record(event: KnownKeplarsEvent, transaction: Transaction): Promise<void> {
    return this.emails.record(event, transaction);
  }
}

export const EMAIL_STATUS_HANDLER = Symbol('EMAIL_STATUS_HANDLER');

/**
 * The handler class that fits the database the app opened. The webhook module names a handler made
 * by a factory after the factory: "emailStatusHandler.record" in its log.
 */
function emailStatusHandler(db: Database, emails: EmailStatusService): RecordEmailStatusOnPostgres | RecordEmailStatusOnPGlite {
  return db instanceof PGlite ? new RecordEmailStatusOnPGlite(emails) : new RecordEmailStatusOnPostgres(emails);
}

export const emailStatusHandlerProvider: FactoryProvider = {
  provide: EMAIL_STATUS_HANDLER,
  inject: [DATABASE, EmailStatusService],
  useFactory: emailStatusHandler,
};
