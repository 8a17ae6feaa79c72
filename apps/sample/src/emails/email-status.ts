import type { KeplarsEventType } from 'nestjs-keplars-webhook';

/**
 * An email's status only moves forward. Keplars retries deliveries and does not keep events in order
 * (an `opened` can arrive before its `delivered`), so the status kept is the furthest one reached:
 *
 *   scheduled < queued < sent < delivered < opened < clicked      progress: each implies the ones before
 *     < cancelled < failed < bounced < complained                  final: nothing moves an email out of them
 *
 * Every final status outranks all progress, so a late `delivered` never undoes a bounce. If one email
 * gets two final events, the one further down this list wins, so the result never depends on the
 * order they arrive in (a spam complaint is the strongest reason to stop mailing someone).
 */
export const EMAIL_STATUSES = [
  'scheduled',
  'queued',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'cancelled',
  'failed',
  'bounced',
  'complained',
] as const;

export type EmailStatus = (typeof EMAIL_STATUSES)[number];

const FINAL_STATUSES: ReadonlySet<EmailStatus> = new Set(['cancelled', 'failed', 'bounced', 'complained']);

/** `email.opened` → `opened`. */
export function statusAfter(type: KeplarsEventType): EmailStatus {
  return type.slice('email.'.length) as EmailStatus;
}

/** Higher is further along; compare ranks, never names. */
export function rankOf(status: EmailStatus): number {
  return EMAIL_STATUSES.indexOf(status);
}

export function isFinal(status: EmailStatus): boolean {
  return FINAL_STATUSES.has(status);
}
