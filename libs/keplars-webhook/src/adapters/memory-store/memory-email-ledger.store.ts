import { randomBytes, randomUUID } from 'node:crypto';
import type {
  ActiveSuppression,
  EmailEngagement,
  EmailLedgerStore,
  EmailTimelineEvent,
  LedgerEmail,
  LedgerEmailWithTimeline,
  LedgerPage,
  LedgerWrite,
  ManualChange,
  PageRequest,
  StoredSuppression,
  SuppressionChange,
} from '../../core/email-ledger/email-ledger-store.js';
import { isFinalStatus, statusOfRank } from '../../core/email-ledger/email-status.js';
import { decodeCursor, encodeCursor } from '../../core/email-ledger/ledger-cursor.js';
import type { LedgerEntry, LedgerScope } from '../../core/email-ledger/ledger-entry.js';
import { expiryOf, normalizeAddress, type ListedAddress, type SuppressionPolicy, type SuppressionReason, type SuppressionSignal } from '../../core/email-ledger/suppression-policy.js';

/** Options of {@link MemoryEmailLedgerStore}. */
export interface MemoryEmailLedgerStoreOptions {
  /** The clock expiries are judged by. @default Date.now */
  readonly now?: () => number;
}

interface FirstOf {
  readonly value: string;
  readonly at: number;
  readonly eventId: string;
}

interface Engagement {
  count: number;
  first: number | undefined;
  last: number | undefined;
}

interface EmailState {
  readonly scope: LedgerScope;
  readonly emailId: string;
  rank: number;
  recipient: FirstOf | undefined;
  subject: FirstOf | undefined;
  readonly opens: Engagement;
  readonly clicks: Engagement;
  firstEventAt: number;
  lastEventAt: number;
  readonly timeline: Map<string, EmailTimelineEvent>;
}

interface Cause {
  readonly id: string;
  readonly reason: SuppressionReason;
  readonly at: number;
  readonly expiresAt: number | undefined;
  readonly eventId: string | undefined;
  readonly actor: string | undefined;
  readonly note: string | undefined;
}

interface AddressState {
  readonly hash: string;
  address: string | undefined;
  reactivatedAt: number;
  readonly causes: Map<string, Cause>;
  /** Soft bounces: event id → time. */
  readonly softBounces: Map<string, number>;
  readonly changes: SuppressionChange[];
}

const key = (scope: LedgerScope, id: string) => `${scope.endpoint}\u0000${scope.tenant}\u0000${id}`;

/**
 * The email ledger in this process's memory (SPEC §8): for tests, and an app of one instance that can
 * lose its ledger on restart. Each operation runs to its end without awaiting, so it is atomic.
 */
export class MemoryEmailLedgerStore implements EmailLedgerStore {
  private readonly emailsByKey = new Map<string, EmailState>();
  /** scope + event id → the email it was recorded on. */
  private readonly recorded = new Map<string, EmailState>();
  private readonly addresses = new Map<string, AddressState>();
  /** scope + event key → the addresses that event moved onto the list (what its reactions read). */
  private readonly suppressedByEvent = new Map<string, AddressState[]>();
  private readonly key = randomBytes(32);
  private readonly now: () => number;

  constructor(options: MemoryEmailLedgerStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async hashKey(): Promise<Buffer> {
    return this.key;
  }

  async record(entry: LedgerEntry, signal: SuppressionSignal | undefined, policy: SuppressionPolicy): Promise<LedgerWrite> {
    const eventKey = key(entry.scope, entry.eventId);
    if (this.recorded.has(eventKey)) return { recorded: false, suppressed: undefined };
    const at = entry.occurredAt.getTime();
    const emailKey = key(entry.scope, entry.emailId);
    let email = this.emailsByKey.get(emailKey);
    if (email === undefined) {
      email = { scope: entry.scope, emailId: entry.emailId, rank: entry.rank, recipient: undefined, subject: undefined, opens: none(), clicks: none(), firstEventAt: at, lastEventAt: at, timeline: new Map() };
      this.emailsByKey.set(emailKey, email);
    }
    this.recorded.set(eventKey, email);
    email.rank = Math.max(email.rank, entry.rank);
    email.firstEventAt = Math.min(email.firstEventAt, at);
    email.lastEventAt = Math.max(email.lastEventAt, at);
    email.recipient = earliest(email.recipient, entry.recipient, at, entry.eventId);
    email.subject = earliest(email.subject, entry.subject, at, entry.eventId);
    if (entry.engagement !== undefined) count(entry.engagement === 'open' ? email.opens : email.clicks, at);
    email.timeline.set(entry.eventId, { eventId: entry.eventId, type: entry.type, occurredAt: entry.occurredAt, ...entry.details });
    return { recorded: true, suppressed: signal === undefined ? undefined : this.signal(signal, policy) };
  }

  private signal(signal: SuppressionSignal, policy: SuppressionPolicy): SuppressionChange | undefined {
    const state = this.addressOf(signal.scope, signal.address);
    const before = this.active(state);
    const at = signal.at.getTime();
    if (signal.kind === 'soft-bounce') {
      state.softBounces.set(signal.eventId, at);
      const { count: threshold, windowMs } = policy.softBounces!;
      const counted = [...state.softBounces].filter(([, time]) => time > state.reactivatedAt);
      for (const [eventId, time] of counted) {
        if (time < at || time >= at + windowMs) continue; // only windows that end at or after this bounce grew
        const within = counted.filter(([, other]) => other > time - windowMs && other <= time).length;
        if (within >= threshold) this.addCause(state, { id: `soft:${eventId}`, reason: 'soft-bounces', at: time, expiresAt: expiryOf('soft-bounces', new Date(time), policy)?.getTime(), eventId, actor: undefined, note: undefined });
      }
    } else {
      this.addCause(state, { id: signal.eventId, reason: signal.kind, at, expiresAt: expiryOf(signal.kind, signal.at, policy)?.getTime(), eventId: signal.eventId, actor: undefined, note: undefined });
    }
    const after = this.active(state);
    if (before !== undefined || after === undefined) return undefined;
    const eventKey = key(signal.scope, signal.eventId);
    this.suppressedByEvent.set(eventKey, [...(this.suppressedByEvent.get(eventKey) ?? []), state]);
    return this.change(state, { change: 'suppressed', reason: after.reason, eventId: signal.eventId, emailId: signal.emailId, actor: undefined, note: undefined });
  }

  async email(scope: LedgerScope, emailId: string): Promise<LedgerEmailWithTimeline | undefined> {
    const email = this.emailsByKey.get(key(scope, emailId));
    if (email === undefined) return undefined;
    const timeline = [...email.timeline.values()].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || compareText(a.eventId, b.eventId));
    return { ...view(email), timeline };
  }

  async emails(endpoint: string, tenant: string | undefined, page: PageRequest): Promise<LedgerPage<LedgerEmail>> {
    const sortKey = (email: EmailState): [number, string, string, string] => [-email.firstEventAt, email.scope.endpoint, email.scope.tenant, email.emailId];
    const after = page.cursor === undefined ? undefined : (decodeCursor(page.cursor, 'nsss') as [number, string, string, string]);
    const matching = [...this.emailsByKey.values()]
      .filter((email) => email.scope.endpoint === endpoint && (tenant === undefined || email.scope.tenant === tenant))
      .filter((email) => after === undefined || compareKeys(sortKey(email), after) > 0)
      .sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
    const items = matching.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items: items.map(view), next: matching.length > page.limit && last ? encodeCursor(sortKey(last)) : undefined };
  }

  async check(scope: LedgerScope, hashes: readonly string[]): Promise<ReadonlyMap<string, ActiveSuppression>> {
    const found = new Map<string, ActiveSuppression>();
    for (const hash of hashes) {
      const state = this.addresses.get(key(scope, hash));
      const active = state && this.active(state);
      if (active) found.set(hash, active);
    }
    return found;
  }

  async suppressions(scope: LedgerScope, page: PageRequest): Promise<LedgerPage<StoredSuppression>> {
    const after = page.cursor === undefined ? undefined : (decodeCursor(page.cursor, 'ns') as [number, string]);
    const prefix = key(scope, '');
    const listed: { sort: [number, string]; item: StoredSuppression }[] = [];
    for (const [stateKey, state] of this.addresses) {
      if (!stateKey.startsWith(prefix)) continue;
      const active = this.active(state);
      if (active === undefined) continue;
      const sort: [number, string] = [-active.since.getTime(), state.hash];
      if (after === undefined || compareKeys(sort, after) > 0) listed.push({ sort, item: { ...active, address: state.address, addressHash: state.hash } });
    }
    listed.sort((a, b) => compareKeys(a.sort, b.sort));
    const items = listed.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items: items.map((entry) => entry.item), next: listed.length > page.limit && last ? encodeCursor(last.sort) : undefined };
  }

  async suppress(scope: LedgerScope, address: ListedAddress, manual: ManualChange): Promise<{ newly: boolean; change: SuppressionChange }> {
    const state = this.addressOf(scope, address);
    const before = this.active(state);
    // After the last reactivation and every earlier manual cause: two calls in one millisecond still
    // have an order, and the first one's note is the one the list shows.
    const manualTimes = [...state.causes.values()].filter((cause) => cause.reason === 'manual').map((cause) => cause.at + 1);
    const at = Math.max(this.now(), state.reactivatedAt + 1, ...manualTimes);
    this.addCause(state, { id: `manual:${randomUUID()}`, reason: 'manual', at, expiresAt: manual.expiresAt?.getTime(), eventId: undefined, actor: manual.actor, note: manual.note });
    const change = this.change(state, { change: 'suppressed', reason: 'manual', eventId: undefined, emailId: undefined, actor: manual.actor, note: manual.note });
    return { newly: before === undefined && this.active(state) !== undefined, change };
  }

  async reactivate(scope: LedgerScope, address: ListedAddress, manual: ManualChange): Promise<SuppressionChange | undefined> {
    const state = this.addresses.get(key(scope, address.hash));
    const before = state && this.active(state);
    if (state === undefined || before === undefined) return undefined;
    state.reactivatedAt = Math.max(this.now(), before.since.getTime(), ...[...state.causes.values()].map((cause) => cause.at));
    return this.change(state, { change: 'reactivated', reason: undefined, eventId: undefined, emailId: undefined, actor: manual.actor, note: manual.note });
  }

  async changes(scope: LedgerScope, hash: string): Promise<readonly SuppressionChange[]> {
    return [...(this.addresses.get(key(scope, hash))?.changes ?? [])];
  }

  async suppressedBy(scope: LedgerScope, eventId: string): Promise<readonly SuppressionChange[]> {
    const states = this.suppressedByEvent.get(key(scope, eventId)) ?? [];
    return states.flatMap((state) => state.changes.filter((change) => change.change === 'suppressed' && change.eventId === eventId));
  }

  async forget(address: ListedAddress): Promise<number> {
    let emails = 0;
    for (const [emailKey, email] of this.emailsByKey) {
      if (email.recipient === undefined || normalizeAddress(email.recipient.value) !== address.address) continue;
      this.dropEmail(emailKey, email);
      emails++;
    }
    for (const state of this.addresses.values()) {
      if (state.hash !== address.hash || state.address === undefined) continue; // once per address, however often asked
      state.address = undefined;
      for (let index = 0; index < state.changes.length; index++) state.changes[index] = { ...state.changes[index]!, address: undefined };
      state.changes.push({ at: new Date(this.now()), change: 'forgotten', address: undefined, reason: undefined, eventId: undefined, emailId: undefined, actor: undefined, note: undefined });
    }
    return emails;
  }

  async prune(before: Date): Promise<number> {
    const cutoff = before.getTime();
    let pruned = 0;
    for (const [emailKey, email] of this.emailsByKey) {
      if (email.lastEventAt >= cutoff) continue;
      this.dropEmail(emailKey, email);
      pruned++;
    }
    for (const state of this.addresses.values()) {
      for (const [eventId, at] of state.softBounces) if (at < cutoff) state.softBounces.delete(eventId);
    }
    return pruned;
  }

  private dropEmail(emailKey: string, email: EmailState): void {
    this.emailsByKey.delete(emailKey);
    for (const eventId of email.timeline.keys()) this.recorded.delete(key(email.scope, eventId));
  }

  private addressOf(scope: LedgerScope, address: ListedAddress): AddressState {
    const stateKey = key(scope, address.hash);
    let state = this.addresses.get(stateKey);
    if (state === undefined) {
      state = { hash: address.hash, address: address.address, reactivatedAt: -Infinity, causes: new Map(), softBounces: new Map(), changes: [] };
      this.addresses.set(stateKey, state);
    }
    state.address ??= address.address; // known again after a forget, from a new event or call
    return state;
  }

  private addCause(state: AddressState, cause: Cause): void {
    if (!state.causes.has(cause.id)) state.causes.set(cause.id, cause);
  }

  /** The earliest cause after the last reactivation that has not expired, if any. */
  private active(state: AddressState): ActiveSuppression | undefined {
    const now = this.now();
    let first: Cause | undefined;
    for (const cause of state.causes.values()) {
      if (cause.at <= state.reactivatedAt || (cause.expiresAt !== undefined && cause.expiresAt <= now)) continue;
      if (first === undefined || cause.at < first.at || (cause.at === first.at && compareText(cause.id, first.id) < 0)) first = cause;
    }
    if (first === undefined) return undefined;
    return { reason: first.reason, since: new Date(first.at), expiresAt: first.expiresAt === undefined ? undefined : new Date(first.expiresAt), eventId: first.eventId, actor: first.actor, note: first.note };
  }

  private change(state: AddressState, change: Omit<SuppressionChange, 'at' | 'address'>): SuppressionChange {
    const made = { at: new Date(this.now()), address: state.address, ...change };
    state.changes.push(made);
    return made;
  }
}

function none(): Engagement {
  return { count: 0, first: undefined, last: undefined };
}

function count(engagement: Engagement, at: number): void {
  engagement.count++;
  engagement.first = engagement.first === undefined ? at : Math.min(engagement.first, at);
  engagement.last = engagement.last === undefined ? at : Math.max(engagement.last, at);
}

/** Keeps the value of the earliest event (by time, then id) that has one: the same whatever the order. */
function earliest(kept: FirstOf | undefined, value: string | undefined, at: number, eventId: string): FirstOf | undefined {
  if (value === undefined) return kept;
  if (kept === undefined || at < kept.at || (at === kept.at && compareText(eventId, kept.eventId) < 0)) return { value, at, eventId };
  return kept;
}

function view(email: EmailState): LedgerEmail {
  const status = statusOfRank(email.rank);
  return {
    endpoint: email.scope.endpoint,
    tenant: email.scope.tenant === '' ? undefined : email.scope.tenant,
    emailId: email.emailId,
    status,
    final: isFinalStatus(status),
    recipient: email.recipient?.value,
    subject: email.subject?.value,
    opens: engagementView(email.opens),
    clicks: engagementView(email.clicks),
    events: email.timeline.size,
    firstEventAt: new Date(email.firstEventAt),
    lastEventAt: new Date(email.lastEventAt),
  };
}

function engagementView(engagement: Engagement): EmailEngagement {
  return { count: engagement.count, first: engagement.first === undefined ? undefined : new Date(engagement.first), last: engagement.last === undefined ? undefined : new Date(engagement.last) };
}

/** Byte order, as Postgres' `COLLATE "C"` sorts: the stores agree on ties. */
function compareText(a: string, b: string): number {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return Buffer.compare(left, right);
}

function compareKeys(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let index = 0; index < a.length; index++) {
    const left = a[index]!;
    const right = b[index]!;
    const order = typeof left === 'number' && typeof right === 'number' ? left - right : compareText(String(left), String(right));
    if (order !== 0) return order;
  }
  return 0;
}
