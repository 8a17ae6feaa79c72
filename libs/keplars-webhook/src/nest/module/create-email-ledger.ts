import { EmailLedger, type EmailLedgerSettings } from '../../core/email-ledger/email-ledger.js';
import type { EmailLedgerStore } from '../../core/email-ledger/email-ledger-store.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { MemoryEmailLedgerStore } from '../../adapters/memory-store/memory-email-ledger.store.js';
import { PostgresEmailLedgerStore } from '../../adapters/postgres-store/postgres-email-ledger.store.js';
import { PostgresIdempotencyStore } from '../../adapters/postgres-store/postgres-idempotency.store.js';
import type { KeplarsLogger } from '../../core/ports/log.js';

/**
 * The endpoint's ledger, beside its deduplication store: in the same Postgres schema (each event
 * recorded once, by its id, in one commit), or in memory beside the memory store. The options check
 * refused every other store at startup.
 */
export async function createEmailLedger(endpoint: string, store: KeplarsIdempotencyStore, settings: EmailLedgerSettings, logger: Pick<KeplarsLogger, 'log' | 'warn' | 'error'>): Promise<EmailLedger> {
  const ledgerStore: EmailLedgerStore = store instanceof PostgresIdempotencyStore ? new PostgresEmailLedgerStore(store.connection, store.tables) : new MemoryEmailLedgerStore();
  const ledger = new EmailLedger(endpoint, ledgerStore, settings, logger);
  await ledger.open();
  return ledger;
}
