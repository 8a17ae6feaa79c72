import type { KeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { deriveKeplarsEventId } from './derive-event-id.js';
import { DEFAULT_ENDPOINT, type KeplarsEvent, type KeplarsEventBase, type KeplarsEventSource } from '../0-event/keplars-event.js';

type Fields = Readonly<Record<string, unknown>>;

const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});
const DEFAULT_SOURCE: KeplarsEventSource = Object.freeze({ endpoint: DEFAULT_ENDPOINT });

/**
 * Turns a validated body of any wire shape (SPEC §1) into the one canonical event handlers receive:
 * envelope `{ id, type, timestamp, data: {…} }`, flat `{ event, email_id, to, … }`, or event + data
 * `{ event, data: {…} }`. Email fields are read from `data` first, then from the top level.
 *
 * @param receivedAt stands in for the timestamp of a payload that has none (default: now).
 * @param source the endpoint (and tenant) that received it (default: the unnamed endpoint).
 */
export function normalizeKeplarsPayload(payload: KeplarsPayload, receivedAt?: Date, source: KeplarsEventSource = DEFAULT_SOURCE): KeplarsEvent {
  const data = payload.data as Fields | undefined;
  const field = (name: string): string | undefined => (data?.[name] ?? payload[name]) as string | undefined;

  const type = (payload.type ?? payload.event) as string;
  const timestamp = field('timestamp');
  const base: KeplarsEventBase = {
    type,
    id: payload.id ?? deriveKeplarsEventId(payload),
    timestamp: dateOf(timestamp) ?? receivedAt ?? new Date(),
    emailId: field('email_id') ?? field('job_id') ?? field('message_id'),
    recipient: field('to') ?? field('recipient'),
    subject: field('subject'),
    workspaceId: field('workspace_id'),
    metadata: (data?.metadata ?? payload.metadata ?? NO_METADATA) as Fields,
    body: payload,
    endpoint: source.endpoint,
    tenant: source.tenant,
  };

  switch (type) {
    case 'email.bounced':
      return {
        ...base,
        type,
        bounceReason: field('bounce_reason') ?? field('reason'),
        bounceType: bounceTypeOf(field('bounce_type') ?? field('bounce_kind')),
      };
    case 'email.clicked':
      return { ...base, type, url: field('url') };
    case 'email.failed':
      return { ...base, type, failureReason: field('error') ?? field('reason') };
    default:
      return base;
  }
}

// ISO 8601 also allows forms `Date` cannot read (week dates such as 2024-W03-1): those count as absent.
function dateOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // Validation lets an optional field be null (a body that repeats "timestamp": null): Date reads that as before.
  const time = typeof value === 'string' ? plainIsoTime(value) : Number.NaN;
  const date = new Date(Number.isNaN(time) ? value : time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The time of a date in the form Keplars sends, `2025-06-15T14:23:01.123Z` (one to nine fraction
 * digits, or none; an offset such as `+02:00` for `Z`), exactly as `new Date(value)` reads it (a day past
 * the month's end rolls over; digits past milliseconds are dropped), without its general parser.
 * NaN for any other form, which `Date` then reads itself (years before 100 included: `Date.UTC`
 * would read 0099 as 1999).
 */
export function plainIsoTime(value: string): number {
  const length = value.length;
  if (length < 20 || value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || value.charCodeAt(10) !== LETTER_T || value.charCodeAt(13) !== COLON || value.charCodeAt(16) !== COLON) {
    return Number.NaN;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  // A comparison with NaN (a character that is not a digit) is false.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  let at = 19;
  let milliseconds = 0;
  if (value.charCodeAt(at) === DOT) {
    const first = ++at;
    for (let scale = 100; at < length; at++, scale /= 10) {
      const digit = value.charCodeAt(at) - ZERO;
      if (digit < 0 || digit > 9) break;
      if (scale >= 1) milliseconds += digit * scale;
    }
    // Past nine digits, V8's own reading of the fraction is not the digits' value (it read 0007000000 as 7 ms).
    if (at === first || at - first > 9) return Number.NaN;
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  if (zone === PLUS || zone === DASH) {
    if (at + 6 !== length || value.charCodeAt(at + 3) !== COLON) return Number.NaN;
    const hours = digitsAt(value, at + 1, 2);
    const minutes = digitsAt(value, at + 4, 2);
    if (!(hours <= 23 && minutes <= 59)) return Number.NaN;
    offsetMinutes = (zone === PLUS ? 1 : -1) * (hours * 60 + minutes);
  } else if (zone !== LETTER_Z || at + 1 !== length) {
    return Number.NaN;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000;
}

const ZERO = 48;
const DASH = 45;
const PLUS = 43;
const DOT = 46;
const COLON = 58;
const LETTER_T = 84;
const LETTER_Z = 90;

/** The number `count` decimal digits at `at` spell, or NaN if one is not a digit. */
function digitsAt(value: string, at: number, count: number): number {
  let number = 0;
  for (let end = at + count; at < end; at++) {
    const digit = value.charCodeAt(at) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return Number.NaN;
    number = number * 10 + digit;
  }
  return number;
}

function bounceTypeOf(value: string | undefined): 'hard' | 'soft' | undefined {
  switch (value?.toLowerCase()) {
    case 'hard':
    case 'permanent':
      return 'hard';
    case 'soft':
    case 'transient':
    case 'temporary':
      return 'soft';
    default:
      return undefined;
  }
}
