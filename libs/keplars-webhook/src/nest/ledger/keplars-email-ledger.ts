import type { AddressStanding, EmailLedger } from '../../core/email-ledger/email-ledger.js';
import type { LedgerEmail, LedgerEmailWithTimeline, LedgerPage, StoredSuppression, SuppressionChange } from '../../core/email-ledger/email-ledger-store.js';
import type { LedgerScope } from '../../core/email-ledger/ledger-entry.js';
import type { EmailLedgers } from './email-ledgers.js';

/**
 * Whose emails or addresses: the endpoint (module import, needed only when several keep a ledger)
 * and the tenant (on a route with `tenants`, unless the suppression list is `shared`).
 */
export interface KeplarsLedgerScope {
  /** The endpoint's `name`; needed only when several imports keep a ledger. */
  endpoint?: string;
  /** The tenant, on a route with `tenants`. */
  tenant?: string;
}

/** Which page of a list: at most `limit` items (default 50, at most 500), after the `cursor` a page before gave as `next`. */
export interface KeplarsPageOptions extends KeplarsLedgerScope {
  /** How many items, 1 to 500. @default 50 */
  limit?: number;
  /** The `next` of the page before; leave out for the first page. */
  cursor?: string;
}

/** Who changes the list by hand and why, as the change is recorded. */
export interface KeplarsManualChange extends KeplarsLedgerScope {
  /** Who made the change (a user id, an email, 'support-tool'). */
  actor: string;
  /** Why, in their words. */
  note?: string;
}

/**
 * The email ledger and suppression list (SPEC §8), for the app's sending side: check addresses before
 * sending, list and change the suppression list, read an email's status and timeline. The module keeps
 * them from Keplars' events when an import has `ledger` on.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Mailer {
 *   constructor(private readonly ledger: KeplarsEmailLedger) {}
 *
 *   async send(to: string, message: Message) {
 *     const { sendable, suppressed } = await this.ledger.check(to);
 *     if (!sendable) return this.logger.warn(`Not emailing ${to}: ${suppressed?.reason} since ${suppressed?.since.toISOString()}`);
 *     await this.keplars.send({ to, ...message });
 *   }
 * }
 * ```
 */
export class KeplarsEmailLedger {
  /** @internal The module makes it: inject `KeplarsEmailLedger`. */
  constructor(private readonly ledgers: EmailLedgers) {}

  /** Whether the app may email `address` now, and if not, why (reason, since, expiry). */
  async check(address: string, scope: KeplarsLedgerScope = {}): Promise<AddressStanding> {
    const [standing] = await this.checkMany([address], scope);
    return standing!;
  }

  /** {@link check} for many addresses in one round trip, in the order given. */
  checkMany(addresses: readonly string[], scope: KeplarsLedgerScope = {}): Promise<AddressStanding[]> {
    const ledger = this.ledgers.of(scope.endpoint);
    return ledger.check(addresses, scopeIn(ledger, scope));
  }

  /** The suppressed addresses, most recent first, a page at a time. */
  suppressions(page: KeplarsPageOptions = {}): Promise<LedgerPage<StoredSuppression>> {
    const ledger = this.ledgers.of(page.endpoint);
    return ledger.suppressions(scopeIn(ledger, page), page.limit, page.cursor);
  }

  /** Suppresses `address` by hand, until `expiresAt` or until reactivated. Resolves false when it was suppressed already (the change is recorded either way). */
  suppress(address: string, change: KeplarsManualChange & { expiresAt?: Date }): Promise<boolean> {
    const ledger = this.ledgers.of(change.endpoint);
    return ledger.suppress(address, change, scopeIn(ledger, change));
  }

  /**
   * Lifts every suppression of `address` so far (a bounce or complaint dated after this suppresses it
   * again). Resolves false when it was not suppressed.
   */
  reactivate(address: string, change: KeplarsManualChange): Promise<boolean> {
    const ledger = this.ledgers.of(change.endpoint);
    return ledger.reactivate(address, change, scopeIn(ledger, change));
  }

  /** Every change to the address's place on the list, oldest first: who, why, when, after which event. */
  history(address: string, scope: KeplarsLedgerScope = {}): Promise<readonly SuppressionChange[]> {
    const ledger = this.ledgers.of(scope.endpoint);
    return ledger.changes(address, scopeIn(ledger, scope));
  }

  /** One email's status, engagement and timeline; `undefined` when no event of it was received. */
  email(emailId: string, scope: KeplarsLedgerScope = {}): Promise<LedgerEmailWithTimeline | undefined> {
    const ledger = this.ledgers.of(scope.endpoint);
    return ledger.email(emailId, scopeIn(ledger, scope));
  }

  /** Emails by their first event (when they started), newest first; of every tenant unless `tenant` is given. */
  emails(page: KeplarsPageOptions = {}): Promise<LedgerPage<LedgerEmail>> {
    const ledger = this.ledgers.of(page.endpoint);
    return ledger.emails(page.tenant, page.limit, page.cursor);
  }

  /**
   * Erases `address` from every ledger, for a person's erasure request: the emails sent to it (with
   * their timelines) and the address in the list's history. A suppressed address stays suppressed: the
   * list keeps a keyed hash of it, not the address. Resolves how many emails were erased.
   */
  async forget(address: string): Promise<number> {
    let erased = 0;
    for (const ledger of this.ledgers.all()) erased += await ledger.forget(address);
    return erased;
  }
}

function scopeIn(ledger: EmailLedger, scope: KeplarsLedgerScope): LedgerScope {
  return { endpoint: ledger.endpoint, tenant: scope.tenant ?? '' };
}
