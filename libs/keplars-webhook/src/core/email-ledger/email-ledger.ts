import type { KeplarsEvent } from '../0-event/keplars-event.js';
import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';
import type { KeplarsLogger } from '../ports/log.js';
import type {
  ActiveSuppression,
  EmailLedgerStore,
  LedgerEmail,
  LedgerEmailWithTimeline,
  LedgerPage,
  LedgerWrite,
  StoredSuppression,
  SuppressionChange,
} from './email-ledger-store.js';
import { ledgerEntryOf, scopeOf, type LedgerScope } from './ledger-entry.js';
import { KeplarsLedgerInputError } from './ledger-cursor.js';
import { AddressHasher, expiryOf, listEventKey, normalizeAddress, suppressionScopeOf, suppressionSignalOf, type SuppressionPolicy } from './suppression-policy.js';

/** The name the ledger's own handler is known by in logs, metrics and deduplication marks. */
export const LEDGER_HANDLER = 'KeplarsEmailLedger.record';

/** The event types that can put an address on the list. */
export const SUPPRESSING_TYPES = ['email.bounced', 'email.complained'] as const;

/** The ledger's settings, as the module resolved them from `ledger`. */
export interface EmailLedgerSettings {
  readonly policy: SuppressionPolicy;
  /** Emails whose last event is older than this are pruned with their timelines. */
  readonly retentionMs: number;
  /** How often the ledger prunes itself; 0 never (tests). */
  readonly pruneIntervalMs: number;
}

/** What a sending-side check says of one address. */
export interface AddressStanding {
  /** The address as given. */
  readonly address: string;
  /** Whether the app may email it now. */
  readonly sendable: boolean;
  /** Why not, when it may not. */
  readonly suppressed: ActiveSuppression | undefined;
}

/** What `@OnAddressSuppressed()` handlers are told: an address an event moved onto the list. */
export interface AddressSuppressedNotice {
  /** The address, trimmed and lower-cased. */
  readonly address: string;
  /** Why: `'hard-bounce'`, `'complaint'` or `'soft-bounces'`. */
  readonly reason: NonNullable<SuppressionChange['reason']>;
  /** The event whose arrival suppressed it. */
  readonly eventId: string;
  /** The email of that event. */
  readonly emailId: string | undefined;
  /** Where the event came from. */
  readonly endpoint: string;
  /** The tenant it came from, on a route with `tenants`. */
  readonly tenant: string | undefined;
  /** When the list recorded the change. */
  readonly at: Date;
}

/** Thrown by the sending-side methods for a string that is not an email address (a 400 for an API). */
export class KeplarsAddressError extends KeplarsLedgerInputError {
  constructor(message: string) {
    super(message);
    this.name = 'KeplarsAddressError';
  }
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

/**
 * Each email's status and timeline, and a suppression list, kept from an endpoint's events (SPEC §8).
 * Its handler records every event on its email; the methods are the app's sending side. Framework-free:
 * the Nest shell adds the handler to the registry and exposes the methods as `KeplarsEmailLedger`.
 */
export class EmailLedger {
  private hasher: AddressHasher | undefined;
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    readonly endpoint: string,
    readonly store: EmailLedgerStore,
    readonly settings: EmailLedgerSettings,
    private readonly log: Pick<KeplarsLogger, 'log' | 'warn' | 'error'>,
  ) {}

  /** Loads the list's hash key, and starts pruning old emails. */
  async open(): Promise<void> {
    this.hasher = new AddressHasher(await this.store.hashKey());
    if (this.settings.pruneIntervalMs > 0) {
      this.pruner = setInterval(() => void this.prune().catch((error: Error) => this.log.warn(`Email ledger: pruning old emails failed (${error.message}); tried again in ${this.settings.pruneIntervalMs / 1000} s.`)), this.settings.pruneIntervalMs);
      this.pruner.unref();
    }
  }

  close(): void {
    clearInterval(this.pruner);
  }

  /**
   * The handler that records this endpoint's events: every type. Its record is idempotent by event id
   * and, on Postgres, one commit (a statement shared by the turn's events, or a transaction for an
   * event that may suppress), so a retry, a copy or a crash neither loses nor repeats a count (SPEC §4b).
   */
  handler(): KeplarsEventHandler {
    return {
      name: LEDGER_HANDLER,
      patterns: ['*'],
      subscriptions: [{ patterns: ['*'], endpoints: [this.endpoint] }],
      invoke: (event: KeplarsEvent) => this.record(event),
    };
  }

  /**
   * A handler that calls `react` once for each address an event put on the list, after the ledger's
   * own handler recorded it; marked like any handler, so it runs until it succeeds once.
   */
  reaction(name: string, react: (notice: AddressSuppressedNotice) => unknown): KeplarsEventHandler {
    return {
      name,
      patterns: SUPPRESSING_TYPES,
      subscriptions: [{ patterns: SUPPRESSING_TYPES, endpoints: [this.endpoint] }],
      after: LEDGER_HANDLER,
      invoke: async (event: KeplarsEvent) => {
        const origin = scopeOf(event);
        const scope = suppressionScopeOf(origin, this.settings.policy);
        for (const change of await this.store.suppressedBy(scope, listEventKey(origin, event.id, this.settings.policy))) {
          await react({
            address: change.address ?? '',
            reason: change.reason!,
            eventId: event.id,
            emailId: change.emailId,
            endpoint: event.endpoint,
            tenant: event.tenant,
            at: change.at,
          });
        }
      },
    };
  }

  /** Records one event. An event without an email id or recipient is logged, never failed: a retry would not bring the field. */
  async record(event: KeplarsEvent): Promise<LedgerWrite | undefined> {
    const entry = ledgerEntryOf(event);
    if (entry === undefined) {
      this.log.warn(`Email ledger: ${event.type} ${event.id} names no email (no email_id), so it is kept on no email's timeline.`);
      return undefined;
    }
    const signal = suppressionSignalOf(entry, this.settings.policy, this.hashing());
    if (signal === undefined && entry.recipient === undefined && (event.type === 'email.complained' || event.type === 'email.bounced')) {
      this.log.warn(`Email ledger: ${event.type} ${event.id} names no recipient (no "to" or "recipient"), so it suppresses no address; it is on email ${entry.emailId}'s timeline.`);
    }
    const write = await this.store.record(entry, signal, this.settings.policy);
    if (write.suppressed) this.log.log(`Email ledger: suppressed ${write.suppressed.address} (${write.suppressed.reason}, after ${event.type} ${event.id}).`);
    return write;
  }

  /** Whether each address may be emailed now, in the order given. */
  async check(addresses: readonly string[], scope: LedgerScope): Promise<AddressStanding[]> {
    const hasher = this.hashing();
    const wrong = addresses.findIndex((address) => typeof address !== 'string');
    if (wrong !== -1) throw new KeplarsLedgerInputError(`addresses must be strings; item ${wrong} is ${typeof addresses[wrong]}.`);
    const listed = addresses.map((address) => hasher.listed(address));
    const active = listed.length === 0 ? new Map<string, ActiveSuppression>() : await this.store.check(this.listScope(scope), [...new Set(listed.map((entry) => entry.hash))]);
    return addresses.map((address, index) => {
      const suppressed = active.get(listed[index]!.hash);
      return { address, sendable: suppressed === undefined && normalizeAddress(address) !== '', suppressed };
    });
  }

  async suppressions(scope: LedgerScope, limit: number | undefined, cursor: string | undefined): Promise<LedgerPage<StoredSuppression>> {
    return this.store.suppressions(this.listScope(scope), { limit: pageSize(limit), cursor });
  }

  /** Resolves whether the address was not suppressed before; the change is recorded either way. */
  async suppress(address: string, change: { actor: string; note?: string | undefined; expiresAt?: Date | undefined }, scope: LedgerScope): Promise<boolean> {
    const listed = this.listed(address);
    const now = Date.now();
    const expiresAt = change.expiresAt ?? expiryOf('manual', new Date(now), this.settings.policy);
    if (expiresAt !== undefined && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now)) {
      throw new KeplarsLedgerInputError(`expiresAt must be a Date in the future (got ${expiresAt instanceof Date ? expiresAt.toString() : String(expiresAt)}); leave it out to suppress until reactivated.`);
    }
    const { newly, change: made } = await this.store.suppress(this.listScope(scope), listed, { actor: change.actor, note: change.note, expiresAt });
    this.log.log(`Email ledger: ${change.actor} suppressed ${made.address ?? listed.address}${change.note ? ` (${change.note})` : ''}${newly ? '' : ', already suppressed'}.`);
    return newly;
  }

  async reactivate(address: string, change: { actor: string; note?: string | undefined }, scope: LedgerScope): Promise<boolean> {
    const made = await this.store.reactivate(this.listScope(scope), this.listed(address), { actor: change.actor, note: change.note });
    if (made) this.log.log(`Email ledger: ${change.actor} reactivated ${made.address}${change.note ? ` (${change.note})` : ''}.`);
    return made !== undefined;
  }

  changes(address: string, scope: LedgerScope): Promise<readonly SuppressionChange[]> {
    return this.store.changes(this.listScope(scope), this.listed(address).hash);
  }

  email(emailId: string, scope: LedgerScope): Promise<LedgerEmailWithTimeline | undefined> {
    return this.store.email(scope, emailId);
  }

  /** This endpoint's emails, the most recently started first; of every tenant unless `tenant` is given. */
  async emails(tenant: string | undefined, limit: number | undefined, cursor: string | undefined): Promise<LedgerPage<LedgerEmail>> {
    return this.store.emails(this.endpoint, tenant, { limit: pageSize(limit), cursor });
  }


  forget(address: string): Promise<number> {
    return this.store.forget(this.listed(address));
  }

  /** Deletes emails whose last event is older than the retention; returns how many. */
  prune(now = new Date()): Promise<number> {
    return this.store.prune(new Date(now.getTime() - this.settings.retentionMs));
  }

  private listScope(scope: LedgerScope): LedgerScope {
    return suppressionScopeOf(scope, this.settings.policy);
  }

  private listed(address: string) {
    if (typeof address !== 'string') throw new KeplarsAddressError(`the address must be a string such as ann@example.com (got ${typeof address}).`);
    const listed = this.hashing().listed(address);
    if (listed.address === '' || !listed.address.includes('@')) {
      throw new KeplarsAddressError(`"${address}" is not an email address: the suppression list keeps addresses such as ann@example.com.`);
    }
    return listed;
  }

  private hashing(): AddressHasher {
    if (this.hasher === undefined) throw new Error('The email ledger is not open yet: it opens with the app (app.init() or app.listen()).');
    return this.hasher;
  }
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new KeplarsLedgerInputError(`limit must be a whole number from 1 to ${MAX_PAGE}, not ${limit}.`);
  return Math.min(limit, MAX_PAGE);
}
