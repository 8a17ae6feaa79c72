import type { KeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { deriveKeplarsEventId } from './derive-event-id.js';
import { plainIsoTime } from '../2-read/plain-iso-time.js';
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
