import type { EmailLedger } from '../../core/email-ledger/email-ledger.js';

/**
 * The ledgers of every import of the module that turned `ledger` on, by endpoint name. One per app
 * (it lives in the shared handlers module), so `KeplarsEmailLedger` and `@OnAddressSuppressed()`
 * find every endpoint's ledger wherever they are injected.
 */
export class EmailLedgers {
  private readonly byEndpoint = new Map<string, EmailLedger>();

  add(ledger: EmailLedger): void {
    this.byEndpoint.set(ledger.endpoint, ledger);
  }

  all(): readonly EmailLedger[] {
    return [...this.byEndpoint.values()];
  }

  /** The ledger of `endpoint`, or the only one when it is not named; throws, saying what to do, when there is none to pick. */
  of(endpoint: string | undefined): EmailLedger {
    const names = [...this.byEndpoint.keys()];
    if (endpoint !== undefined) {
      const ledger = this.byEndpoint.get(endpoint);
      if (ledger) return ledger;
      throw new Error(`No email ledger on endpoint "${endpoint}": ${names.length === 0 ? 'no import of KeplarsWebhookModule has ledger turned on' : `the endpoints with one are ${names.join(', ')}`}.`);
    }
    if (names.length === 1) return this.byEndpoint.get(names[0]!)!;
    if (names.length === 0) {
      throw new Error('The email ledger is off: turn it on with KeplarsWebhookModule.forRoot({ secret, ledger: true }) (with a Postgres or memory deduplication store).');
    }
    throw new Error(`Several endpoints keep an email ledger (${names.join(', ')}): say which, e.g. { endpoint: '${names[0]}' }.`);
  }
}
