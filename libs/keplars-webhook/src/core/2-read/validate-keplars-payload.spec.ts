import { plainToInstance } from 'class-transformer';
import fc from 'fast-check';
import { validateSync } from 'class-validator';
import { loadFixtures } from '../../../../../test/fixtures/fixtures.js';
import { pick, seededRandom } from '../../../../../test/support/seeded-random.js';
import { compileFastCheck } from './compile-fast-check.js';
import { KeplarsPayloadDto } from './keplars-payload.dto.js';
import { validateKeplarsPayload } from './validate-keplars-payload.js';

const fixtures = loadFixtures();

describe('validateKeplarsPayload', () => {
  it.each(fixtures.map((fixture) => [fixture.name, fixture]))('accepts %s', (_, fixture) => {
    expect(validateKeplarsPayload(fixture.payload)).toEqual({ valid: true, payload: fixture.payload });
  });

  it('accepts unknown extra fields and unknown new event types', () => {
    const payload = { event: 'email.reopened', brand_new_field: [1, 2], data: { email_id: 'e1', surprise: { deep: true } } };
    expect(validateKeplarsPayload(payload).valid).toBe(true);
  });

  it.each([
    ['a list', [{ type: 'email.opened' }], ['the body must be a JSON object']],
    ['a string', 'email.opened', ['the body must be a JSON object']],
    ['null', null, ['the body must be a JSON object']],
    ['no event type', { data: {} }, ['type must name the event type, e.g. "email.delivered"', 'event must name the event type, e.g. "email.delivered"']],
    ['a numeric type', { type: 42 }, ['type must name the event type, e.g. "email.delivered"']],
    ['a type with spaces', { event: 'email opened' }, ['event must name the event type, e.g. "email.delivered"']],
    ['data that is not an object', { type: 'email.sent', data: 'x' }, ['data must be an object']],
    ['a nested field of the wrong type', { type: 'email.sent', data: { email_id: 7 } }, ['data.email_id must be a string']],
    ['a timestamp that is not ISO 8601', { event: 'email.sent', timestamp: 'yesterday' }, ['timestamp must be a valid ISO 8601 date string']],
    ['an empty id', { id: '', type: 'email.sent' }, ['id should not be empty']],
    ['a numeric id', { id: 42, type: 'email.sent' }, ['id must be a string']],
    ['an id too long', { id: 'e'.repeat(257), type: 'email.sent' }, ['id must be shorter than or equal to 256 characters']],
    ['a type too long', { type: `email.${'x'.repeat(130)}` }, ['type must be shorter than or equal to 128 characters']],
    ['metadata that is a list', { event: 'email.sent', metadata: [] }, ['metadata must be an object']],
  ])('refuses %s, saying why', (_, body, messages) => {
    expect(validateKeplarsPayload(body)).toEqual({ valid: false, messages });
  });

  it('refuses prototype-polluting keys without polluting anything', () => {
    const body = JSON.parse('{"type":"email.sent","__proto__":{"polluted":true},"data":{"constructor":{"prototype":{"polluted":true}}}}');
    expect(() => validateKeplarsPayload(body)).not.toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('the compiled fast check agrees with class-validator', () => {
  const fastCheck = compileFastCheck(KeplarsPayloadDto)!;
  const classValidatorAccepts = (body: Record<string, unknown>) => validateSync(plainToInstance(KeplarsPayloadDto, body)).length === 0;

  it('compiles the payload DTO (no feature it cannot reproduce)', () => {
    expect(fastCheck).toBeDefined();
  });

  it('on every fixture, and on 3000 seeded mutations of them', () => {
    const random = seededRandom(7);
    const values: unknown[] = ['', 'x', 'email.opened', 'not a type!', '2024-01-15T10:35:00Z', '2024-13-45', 0, 1.5, true, null, [], ['a'], {}, { a: 1 }, 'a'.repeat(600)];
    const keys = ['id', 'type', 'event', 'timestamp', 'data', 'email_id', 'to', 'metadata', 'bounce_type', 'url', 'error', 'unknown'];
    let disagreements = 0;
    for (let i = 0; i < 3000; i++) {
      const body = structuredClone(pick(random, fixtures).payload) as Record<string, unknown>;
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) {
        const target = random() < 0.5 && typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : body;
        const key = pick(random, keys);
        if (random() < 0.2) delete target[key];
        else target[key] = structuredClone(pick(random, values));
      }
      if (fastCheck(body) !== classValidatorAccepts(body)) disagreements++;
    }
    expect(disagreements).toBe(0);
    for (const { payload } of fixtures) expect(fastCheck(payload)).toBe(true);
  });

  // The check answers IsString, IsNotEmpty, IsObject, Matches, MaxLength and IsISO8601 inline; where the
  // inline test covers only the common case, the constraint itself decides the rest.
  it('on ISO 8601 dates: the plain form inline, every other form as class-validator says', () => {
    const digits = (length: number, max = 10 ** length - 1) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(length, '0'));
    const date = fc
      .tuple(
        digits(4),
        digits(2, 13),
        digits(2, 32),
        fc.constantFrom('T', 't', ' '),
        digits(2, 24),
        digits(2, 60),
        digits(2, 60),
        fc.option(fc.integer({ min: 1, max: 12 }).chain((length) => digits(length, 10 ** Math.min(length, 15) - 1)), { nil: undefined }),
        fc.constantFrom('Z', 'z', '+02:00', '-05:30', '+0200', '+24:00', '', '+02'),
      )
      .map(([year, month, day, separator, hour, minute, second, fraction, zone]) => `${year}-${month}-${day}${separator}${hour}:${minute}:${second}${fraction === undefined ? '' : `.${fraction}`}${zone}`);
    fc.assert(
      fc.property(date, (timestamp) => {
        const body = { type: 'email.sent', timestamp, data: { timestamp } };
        expect(fastCheck(body)).toBe(classValidatorAccepts(body));
      }),
      { numRuns: 3000, seed: 26 },
    );
    for (const timestamp of ['2025-06-15T14:23:01.123Z', '2025-06-15T14:23:01+02:00', '2025-06-15', '2025-W24-7', '20250615T142301Z', '2025-06-15T14:23:01.123z']) {
      expect(fastCheck({ type: 'email.sent', timestamp })).toBe(true);
    }
  });

  it('on lengths counted as class-validator counts them (a surrogate pair is one character)', () => {
    const emoji = '\u{1F600}'; // two UTF-16 units, one character
    for (const id of [emoji.repeat(128), emoji.repeat(200), emoji.repeat(257), 'e'.repeat(256), 'e'.repeat(257), `${'e'.repeat(255)}\uFE0F`]) {
      const body = { id, type: 'email.sent' };
      expect(fastCheck(body)).toBe(classValidatorAccepts(body));
    }
    expect(fastCheck({ id: emoji.repeat(200), type: 'email.sent' })).toBe(true); // 400 units, 200 characters
  });

  it('on values of every kind in every field', () => {
    const anyValue = fc.oneof(fc.string(), fc.constantFrom('', 'email.opened', 'a.b.c', 'a..b', '2024-01-15T10:35:00Z'), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string()));
    const field = fc.constantFrom('id', 'type', 'event', 'timestamp', 'email_id', 'to', 'metadata', 'subject', 'url');
    fc.assert(
      fc.property(fc.dictionary(field, anyValue), fc.dictionary(field, anyValue), (top, data) => {
        const body = { ...top, data };
        expect(fastCheck(body)).toBe(classValidatorAccepts(body));
      }),
      { numRuns: 3000, seed: 26 },
    );
  });
});

