import { loadFixtures } from '../../../../../test/fixtures/fixtures.js';
import type { KeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { deriveKeplarsEventId } from './derive-event-id.js';
import { normalizeKeplarsPayload } from './normalize-keplars-payload.js';

const receivedAt = new Date('2026-11-28T12:00:00Z');

describe('normalizeKeplarsPayload turns every wire shape into the canonical event', () => {
  it.each(loadFixtures().map((fixture) => [fixture.name, fixture]))('%s', (_, { payload, expected }) => {
    const before = structuredClone(payload);
    const event = normalizeKeplarsPayload(payload as KeplarsPayload, receivedAt);

    const { id, timestamp, ...fields } = expected;
    expect(event).toMatchObject(Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value ?? undefined])));
    expect(event.id).toBe(id ?? deriveKeplarsEventId(payload));
    expect(event.id).toMatch(id === null ? /^kpl_[0-9a-f]{32}$/ : /^evt_/);
    expect(event.timestamp).toEqual(timestamp === null ? receivedAt : new Date(timestamp as string));
    expect(event.body).toBe(payload);
    expect(payload).toEqual(before);
  });
});

describe('derived event ids', () => {
  const payload = { event: 'email.opened', data: { job_id: 'job_1', recipient: 'a@example.com' } };

  it('are the same for the same content, whatever the key order', () => {
    const reordered = { data: { recipient: 'a@example.com', job_id: 'job_1' }, event: 'email.opened' };
    expect(deriveKeplarsEventId(payload)).toBe(deriveKeplarsEventId(reordered));
  });

  it('differ when anything differs', () => {
    expect(deriveKeplarsEventId(payload)).not.toBe(deriveKeplarsEventId({ ...payload, event: 'email.clicked' }));
    expect(deriveKeplarsEventId(payload)).not.toBe(deriveKeplarsEventId({ ...payload, data: { ...payload.data, job_id: 'job_2' } }));
  });
});

describe('edge cases', () => {
  it('reads bounce kinds in their other spellings', () => {
    const bounce = (bounce_type: string) =>
      normalizeKeplarsPayload({ event: 'email.bounced', bounce_type } as KeplarsPayload, receivedAt) as { bounceType?: string };
    expect(bounce('Permanent').bounceType).toBe('hard');
    expect(bounce('transient').bounceType).toBe('soft');
    expect(bounce('unheard-of').bounceType).toBeUndefined();
  });

  it('uses the time of receipt for an ISO 8601 form Date cannot read', () => {
    expect(normalizeKeplarsPayload({ event: 'email.sent', timestamp: '2024-W03-1' } as KeplarsPayload, receivedAt).timestamp).toEqual(receivedAt);
  });

  it('keeps a new event type as it is, with the common fields', () => {
    const event = normalizeKeplarsPayload({ event: 'email.reopened', email_id: 'e1' } as KeplarsPayload, receivedAt);
    expect(event).toMatchObject({ type: 'email.reopened', emailId: 'e1', metadata: {} });
  });
});
