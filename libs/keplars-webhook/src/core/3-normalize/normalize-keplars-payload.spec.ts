import fc from 'fast-check';
import { loadFixtures } from '../../../../../test/fixtures/fixtures.js';
import type { KeplarsPayload } from '../2-read/validate-keplars-payload.js';
import { deriveKeplarsEventId } from './derive-event-id.js';
import { normalizeKeplarsPayload } from './normalize-keplars-payload.js';
import { plainIsoTime } from '../2-read/plain-iso-time.js';

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

describe('a timestamp is read as Date reads it', () => {
  const digits = (length: number, max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(length, '0'));
  const zone = fc.oneof(fc.constantFrom('Z', 'z', '', '+0200', '+02', ' Z'), fc.tuple(fc.constantFrom('+', '-'), digits(2, 25), digits(2, 61)).map(([sign, h, m]) => `${sign}${h}:${m}`));
  const timestamp = fc
    .tuple(digits(4, 9999), digits(2, 13), digits(2, 32), fc.constantFrom('T', 'T', ' ', 't'), digits(2, 25), digits(2, 61), digits(2, 61), fc.option(fc.stringMatching(/^\d{0,12}$/), { nil: undefined }), zone)
    .map(([year, month, day, separator, hour, minute, second, fraction, zone]) => `${year}-${month}-${day}${separator}${hour}:${minute}:${second}${fraction === undefined ? '' : `.${fraction}`}${zone}`);

  it('the plain form without the general parser, to the millisecond, any other form by Date itself', () => {
    let plain = 0;
    fc.assert(
      fc.property(timestamp, (value) => {
        const time = plainIsoTime(value);
        if (!Number.isNaN(time)) plain++;
        expect(Number.isNaN(time) ? Number.NaN : time).toBe(Number.isNaN(time) ? Number.NaN : new Date(value).getTime());
        const event = normalizeKeplarsPayload({ type: 'email.sent', timestamp: value } as KeplarsPayload, receivedAt);
        const read = new Date(value);
        expect(event.timestamp.getTime()).toBe(Number.isNaN(read.getTime()) ? receivedAt.getTime() : read.getTime());
      }),
      { numRuns: 5000, seed: 26 },
    );
    expect(plain).toBeGreaterThan(500); // the generator reaches the plain form often, not only its misses
  });

  it.each([
    ['2025-06-15T14:23:01.123Z', Date.UTC(2025, 5, 15, 14, 23, 1, 123)],
    ['2025-06-15T14:23:01Z', Date.UTC(2025, 5, 15, 14, 23, 1)],
    ['2025-06-15T14:23:01.1234567Z', Date.UTC(2025, 5, 15, 14, 23, 1, 123)],
    ['2025-06-15T14:23:01+02:00', Date.UTC(2025, 5, 15, 12, 23, 1)],
    ['2025-06-31T00:00:00Z', Date.UTC(2025, 6, 1)],
  ])('%s', (value, time) => {
    expect(plainIsoTime(value)).toBe(time);
  });

  it('a null timestamp (validation lets an optional field be null) is read by Date, as before, without throwing', () => {
    const event = normalizeKeplarsPayload({ type: 'email.sent', timestamp: null } as unknown as KeplarsPayload, receivedAt);
    expect(event.timestamp.getTime()).toBe(new Date(null as unknown as string).getTime());
  });

  it.each(['0099-01-01T00:00:00Z', '2025-06-15', '2025-06-15T14:23Z', '2025-06-15T14:23:01.Z', '2025-06-15T24:00:00Z', '2025-06-15T14:23:01'])('%s is left to Date', (value) => {
    expect(plainIsoTime(value)).toBeNaN();
  });
});

