import { seededRandom } from '../../../../../test/support/seeded-random.js';
import { signKeplarsPayload, verifyKeplarsSignature, type SignatureInput } from './keplars-signature.js';

const secret = 'whsec_test_secret';
const rawBody = Buffer.from('{"id":"evt_1","type":"email.opened","data":{"subject":"Grüße  \\u00e9\\n"}}');
const hex = signKeplarsPayload(rawBody, secret);

const verify = (signature: SignatureInput['signature'], overrides: Partial<SignatureInput> = {}) =>
  verifyKeplarsSignature({ rawBody, signature, secrets: [secret], ...overrides });

describe('signKeplarsPayload', () => {
  it('is the lower-case hex HMAC-SHA256 of the raw bytes', () => {
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(signKeplarsPayload(rawBody.toString('utf8'), secret)).toBe(hex);
    expect(signKeplarsPayload(rawBody, 'another secret')).not.toBe(hex);
  });
});

describe('a valid signature passes', () => {
  it.each([
    ['bare hex', hex],
    ['sha256= prefixed', `sha256=${hex}`],
    ['upper-case hex', hex.toUpperCase()],
    ['upper-case prefix and hex', `SHA256=${hex.toUpperCase()}`],
    ['surrounded by spaces', `  sha256=${hex} `],
  ])('%s', (_, signature) => {
    expect(verify(signature)).toBeUndefined();
  });

  it('with any one of several secrets (rotation)', () => {
    expect(verify(hex, { secrets: ['old secret', secret] })).toBeUndefined();
    expect(verify(hex, { secrets: [secret, 'new secret'] })).toBeUndefined();
  });
});

describe('a missing, malformed or wrong signature is refused without throwing', () => {
  it.each([
    ['missing', undefined, 'signature header missing'],
    ['empty', '', 'signature header missing'],
    ['odd length', hex.slice(1), 'signature malformed'],
    ['too short', hex.slice(2), 'signature malformed'],
    ['too long', `${hex}00`, 'signature malformed'],
    ['not hex', `${hex.slice(0, 63)}g`, 'signature malformed'],
    ['wrong prefix', `sha1=${hex}`, 'signature malformed'],
    ['prefix only', 'sha256=', 'signature malformed'],
    ['two values joined by a repeated header', `${hex}, ${hex}`, 'signature malformed'],
    ['a list (repeated header)', [hex, hex], 'signature malformed'],
    ['base64 instead of hex', Buffer.from(hex, 'hex').toString('base64'), 'signature malformed'],
    ['wrong', signKeplarsPayload(rawBody, 'wrong secret'), 'signature does not match'],
    ['for other bytes', signKeplarsPayload(Buffer.from(JSON.stringify(JSON.parse(rawBody.toString()))), secret), 'signature does not match'],
  ] as const)('%s', (_, signature, reason) => {
    expect(verify(signature as SignatureInput['signature'])).toBe(reason);
  });

  it('for any random header value (seeded)', () => {
    const random = seededRandom(2024);
    const alphabet = 'abcdefABCDEF0123456789=shaSHA256 ,;\u00e9\u0000';
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 140);
      const value = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(() => verify(value)).not.toThrow();
      expect(verify(value)).toBeDefined();
    }
  });
});

describe('the timestamped scheme', () => {
  const now = 1_750_000_000;
  const timestamped = (timestampValue: string | undefined, signedAt = now, toleranceSeconds = 300) =>
    verify(signKeplarsPayload(rawBody, secret, signedAt), { timestamp: { value: timestampValue, toleranceSeconds, nowSeconds: now } });

  it('passes a fresh timestamp signed with the body', () => {
    expect(timestamped(String(now))).toBeUndefined();
    expect(timestamped(String(now - 300), now - 300)).toBeUndefined();
  });

  it('refuses a missing or malformed timestamp', () => {
    expect(timestamped(undefined)).toBe('timestamp header missing');
    expect(timestamped('')).toBe('timestamp header missing');
    expect(timestamped('yesterday')).toBe('timestamp malformed');
    expect(timestamped('1.5e9')).toBe('timestamp malformed');
  });

  it('refuses a timestamp outside the tolerance, in both directions', () => {
    expect(timestamped(String(now - 301), now - 301)).toBe('timestamp outside tolerance');
    expect(timestamped(String(now + 301), now + 301)).toBe('timestamp outside tolerance');
  });

  it('refuses a signature over the body alone, or over another timestamp', () => {
    expect(verify(hex, { timestamp: { value: String(now), toleranceSeconds: 300, nowSeconds: now } })).toBe('signature does not match');
    expect(timestamped(String(now), now - 1)).toBe('signature does not match');
  });
});
