import { createHmac } from 'node:crypto';
import type { LedgerEntry, LedgerScope } from './ledger-entry.js';

/**
 * Why an address is suppressed: a hard bounce, a spam complaint, too many soft bounces within the
 * window, or by hand (`suppress()`).
 */
export type SuppressionReason = 'hard-bounce' | 'complaint' | 'soft-bounces' | 'manual';

/** The suppression policy as the module resolved it from `ledger.suppressions`. */
export interface SuppressionPolicy {
  /** Suppress after `count` soft bounces within `windowMs` (by the events' own times); `undefined`: never for soft bounces. */
  readonly softBounces: { readonly count: number; readonly windowMs: number } | undefined;
  /** How long a suppression for each reason lasts, from the event that caused it; absent: until reactivated. */
  readonly expiresAfterMs: Readonly<Partial<Record<SuppressionReason, number>>>;
  /** One list for every tenant of the endpoint (module import), instead of one per tenant. */
  readonly shared: boolean;
}

/** The tenant of an endpoint's shared list. */
const SHARED_TENANT = '*';

/**
 * An address as the list keys it: trimmed and lower-cased (mail providers ignore case in practice,
 * so one entry per mailbox however it was spelled), and its keyed hash, which is all that stays once
 * the address is forgotten.
 */
export interface ListedAddress {
  readonly address: string;
  readonly hash: string;
}

/** What an event may do to the suppression list. */
export interface SuppressionSignal {
  readonly scope: LedgerScope;
  readonly address: ListedAddress;
  readonly kind: 'hard-bounce' | 'complaint' | 'soft-bounce';
  /** The event as the list keys it ({@link listEventKey}). */
  readonly eventId: string;
  readonly emailId: string | undefined;
  readonly at: Date;
}

/** `'  Ann@Example.COM '` → `'ann@example.com'`. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * Keys the list by an HMAC of each address, so that `forget(address)` can drop the address and keep
 * the suppression: a forgotten address is found again only by someone who has the address and the key.
 */
export class AddressHasher {
  constructor(private readonly key: Buffer) {}

  listed(address: string): ListedAddress {
    const normalized = normalizeAddress(address);
    return { address: normalized, hash: createHmac('sha256', this.key).update(normalized).digest('hex') };
  }
}

/** The list an event's address belongs to under the policy. */
export function suppressionScopeOf(scope: LedgerScope, policy: SuppressionPolicy): LedgerScope {
  return policy.shared ? { endpoint: scope.endpoint, tenant: SHARED_TENANT } : scope;
}

/**
 * An event as the list keys it (its causes, soft bounces and changes): its id, and in a shared list
 * its tenant before it (`acme/evt_1`), since two tenants' events may carry one id.
 */
export function listEventKey(scope: LedgerScope, eventId: string, policy: SuppressionPolicy): string {
  return policy.shared ? `${scope.tenant}/${eventId}` : eventId;
}

/**
 * What the event does to the list, if anything: a hard bounce or a complaint suppresses its recipient,
 * a soft bounce counts toward the policy's threshold; a bounce Keplars did not call hard or soft does
 * neither (it may not happen again). `undefined` also when the event names no recipient.
 */
export function suppressionSignalOf(entry: LedgerEntry, policy: SuppressionPolicy, hasher: AddressHasher): SuppressionSignal | undefined {
  const kind = entry.type === 'email.complained' ? 'complaint' : entry.type === 'email.bounced' ? bounceKind(entry) : undefined;
  if (kind === undefined || entry.recipient === undefined || (kind === 'soft-bounce' && policy.softBounces === undefined)) return undefined;
  const address = hasher.listed(entry.recipient);
  if (address.address === '') return undefined;
  return { scope: suppressionScopeOf(entry.scope, policy), address, kind, eventId: listEventKey(entry.scope, entry.eventId, policy), emailId: entry.emailId, at: entry.occurredAt };
}

function bounceKind(entry: LedgerEntry): SuppressionSignal['kind'] | undefined {
  if (entry.details.bounceType === 'hard') return 'hard-bounce';
  if (entry.details.bounceType === 'soft') return 'soft-bounce';
  return undefined;
}

/** When a suppression for `reason` that began at `at` ends, under the policy. */
export function expiryOf(reason: SuppressionReason, at: Date, policy: SuppressionPolicy): Date | undefined {
  const ms = policy.expiresAfterMs[reason];
  return ms === undefined ? undefined : new Date(at.getTime() + ms);
}
