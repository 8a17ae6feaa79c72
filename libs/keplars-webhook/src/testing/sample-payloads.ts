import { randomBytes } from 'node:crypto';
import type { KeplarsEventType } from '../core/0-event/keplars-event.js';

/** The three payload shapes Keplars has been seen to send (SPEC §1). */
export type KeplarsWireShape = 'envelope' | 'flat' | 'event-data';

/**
 * Every {@link KeplarsWireShape}, to run one test in each shape Keplars sends.
 *
 * @example
 * describe.each(KEPLARS_WIRE_SHAPES)('a bounce in the %s shape', (shape) => {
 *   it('is handled', async () => {
 *     const response = await postKeplarsEvent(app, buildKeplarsPayload('email.bounced', { shape }), { secret });
 *     expect(response.status).toBe(200);
 *   });
 * });
 */
export const KEPLARS_WIRE_SHAPES: readonly KeplarsWireShape[] = ['envelope', 'flat', 'event-data'];

/** Overrides for {@link buildKeplarsPayload}, named as on the canonical event. */
export interface KeplarsPayloadOverrides {
  /** @default 'envelope' */
  shape?: KeplarsWireShape;
  /** The event id (envelope shape only; the others carry none). @default a fresh `evt_…` */
  id?: string;
  /** The email's id (`email_id`). @default a fresh `email_…` (`em_…` in the flat shape) */
  emailId?: string;
  /** The recipient address (`to`; `recipient` in the event + data shape). @default 'user@example.com' */
  recipient?: string;
  /** The subject line. @default one of a few realistic subjects, at random */
  subject?: string;
  /** The Keplars workspace (`workspace_id`). @default 'ws_abc123' in the flat shape, absent in the others */
  workspaceId?: string;
  /** @default now (absent in the event + data shape unless given) */
  timestamp?: Date | string;
  /** The metadata attached when sending. @default absent (`{}` in the flat shape) */
  metadata?: Record<string, unknown>;
  /**
   * `email.bounced` only: why it bounced (`bounce_reason`; `reason` in the event + data shape).
   * @default 'Mailbox does not exist' ('Mailbox full' with `bounceType: 'soft'`)
   */
  bounceReason?: string;
  /**
   * `email.bounced` only: the kind of bounce (`bounce_type`).
   * @default 'hard' (absent in the event + data shape unless given)
   */
  bounceType?: 'hard' | 'soft';
  /** `email.clicked` only: the link clicked. @default 'https://example.com/pricing?utm_source=keplars' */
  url?: string;
  /** `email.failed` only: why sending failed (`error`). @default 'SMTP 554: message rejected' */
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
