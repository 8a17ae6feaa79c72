/**
 * Every status an email can have in the ledger, in the order it moves (SPEC §8). Progress first, each
 * implying the ones before it; then the final statuses, which outrank all progress:
 *
 *   scheduled < queued < sent < delivered < opened < clicked  <  cancelled < failed < bounced < complained
 *
 * The ledger keeps the highest status any of an email's events gave it, so a late `delivered` never
 * undoes a bounce and the result never depends on the order events arrive in. Of two final events,
 * the one further down wins (a complaint is the strongest reason to stop mailing someone).
 */
export const EMAIL_STATUSES = ['scheduled', 'queued', 'sent', 'delivered', 'opened', 'clicked', 'cancelled', 'failed', 'bounced', 'complained'] as const;

/** Where an email stands: one of {@link EMAIL_STATUSES}. */
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

const RANKS: ReadonlyMap<string, number> = new Map(EMAIL_STATUSES.map((status, rank) => [status, rank]));
const FIRST_FINAL = RANKS.get('cancelled')!;

/** Rank of an event type that moves no status (a type Keplars added that this version does not know). */
export const NO_STATUS_RANK = -1;

/** `email.opened` → `opened`; a type outside the order → `undefined` (it goes on the timeline only). */
export function statusOfType(type: string): EmailStatus | undefined {
  if (!type.startsWith('email.')) return undefined;
  const status = type.slice('email.'.length);
  return RANKS.has(status) ? (status as EmailStatus) : undefined;
}

/** Higher is further along; compare ranks, never names. */
export function rankOfStatus(status: EmailStatus | undefined): number {
  return status === undefined ? NO_STATUS_RANK : RANKS.get(status)!;
}

/** The status of a rank kept by a store. */
export function statusOfRank(rank: number): EmailStatus | undefined {
  return rank === NO_STATUS_RANK ? undefined : EMAIL_STATUSES[rank];
}

/** Whether nothing moves the email any more but a stronger final status. */
export function isFinalStatus(status: EmailStatus | undefined): boolean {
  return status !== undefined && RANKS.get(status)! >= FIRST_FINAL;
}
