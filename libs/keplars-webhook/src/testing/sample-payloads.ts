import { randomBytes } from 'node:crypto';
import type { KeplarsEventType } from '../4-normalize/keplars-event.js';

/** The three payload shapes Keplars has been seen to send (SPEC §1). */
export type KeplarsWireShape = 'envelope' | 'flat' | 'event-data';

export const KEPLARS_WIRE_SHAPES: readonly KeplarsWireShape[] = ['envelope', 'flat', 'event-data'];

/** Overrides for {@link buildKeplarsPayload}, named as on the canonical event. */
export interface KeplarsPayloadOverrides {
  /** @default 'envelope' */
  shape?: KeplarsWireShape;
  /** The event id (envelope shape only; the others carry none). @default a fresh `evt_…` */
  id?: string;
  emailId?: string;
  recipient?: string;
  subject?: string;
  workspaceId?: string;
  /** @default now (absent in the event + data shape unless given) */
  timestamp?: Date | string;
  metadata?: Record<string, unknown>;
  bounceReason?: string;
  bounceType?: 'hard' | 'soft';
  url?: string;
  failureReason?: string;
  /** Extra wire fields, merged into the email fields as they are. */
  extra?: Record<string, unknown>;
}

const SUBJECTS = ['Welcome to Acme!', 'Your order #1042 is confirmed', 'Reset your password', 'Your March invoice'];

const randomId = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

/**
 * A realistic Keplars webhook body for any event type, in any of the three wire shapes, with fresh
 * ids unless you fix them. Pass the result to `postKeplarsEvent()`, or `JSON.stringify` it yourself.
 *
 * @example
 * buildKeplarsPayload('email.bounced', { bounceType: 'hard', recipient: 'gone@example.com' })
 * buildKeplarsPayload('email.clicked', { shape: 'flat', url: 'https://example.com/pricing' })
 */
export function buildKeplarsPayload(type: KeplarsEventType | (string & {}), overrides: KeplarsPayloadOverrides = {}): Record<string, unknown> {
  const shape = overrides.shape ?? 'envelope';
  const timestamp = overrides.timestamp instanceof Date ? overrides.timestamp.toISOString() : overrides.timestamp;
  const fields = {
    email_id: overrides.emailId ?? randomId(shape === 'flat' ? 'em' : 'email'),
    [shape === 'event-data' ? 'recipient' : 'to']: overrides.recipient ?? 'user@example.com',
    subject: overrides.subject ?? SUBJECTS[Math.floor(Math.random() * SUBJECTS.length)],
    ...(overrides.workspaceId !== undefined || shape === 'flat' ? { workspace_id: overrides.workspaceId ?? 'ws_abc123' } : {}),
    ...(overrides.metadata !== undefined ? { metadata: overrides.metadata } : {}),
    ...typeFields(type, shape, overrides),
    ...overrides.extra,
  };
  const now = timestamp ?? new Date().toISOString();
  switch (shape) {
    case 'envelope':
      return { id: overrides.id ?? randomId('evt'), type, timestamp: now, data: { ...fields, status: type.split('.').pop() } };
    case 'flat':
      return { event: type, ...fields, timestamp: now, metadata: overrides.metadata ?? {} };
    case 'event-data':
      return { event: type, ...(timestamp !== undefined ? { timestamp } : {}), data: fields };
  }
}

function typeFields(type: string, shape: KeplarsWireShape, overrides: KeplarsPayloadOverrides): Record<string, unknown> {
  switch (type) {
    case 'email.bounced': {
      const reason = overrides.bounceReason ?? (overrides.bounceType === 'soft' ? 'Mailbox full' : 'Mailbox does not exist');
      return shape === 'event-data'
        ? { reason, ...(overrides.bounceType ? { bounce_type: overrides.bounceType } : {}) }
        : { bounce_reason: reason, bounce_type: overrides.bounceType ?? 'hard' };
    }
    case 'email.clicked':
      return { url: overrides.url ?? 'https://example.com/pricing?utm_source=keplars' };
    case 'email.failed':
      return { error: overrides.failureReason ?? 'SMTP 554: message rejected' };
    default:
      return {};
  }
}
