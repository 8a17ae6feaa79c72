import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a request's signature was refused; logged, never sent to the caller. */
export type SignatureRejection =
  | 'signature header missing'
  | 'signature malformed'
  | 'signature does not match'
  | 'timestamp header missing'
  | 'timestamp malformed'
  | 'timestamp outside tolerance';

/** What {@link verifyKeplarsSignature} checks: the raw body, the header's value, and the secrets to try. */
export interface SignatureInput {
  /** The exact bytes of the request body, as received. */
  readonly rawBody: Buffer;
  /** The signature header's value (`sha256=<hex>` or bare hex, any case). */
  readonly signature: string | readonly string[] | undefined;
  /** The secrets to try; any one of them passes (rotation). */
  readonly secrets: readonly string[];
  /** Set when the timestamped scheme is on: the content signed is `${timestamp}.${rawBody}`. */
  readonly timestamp?: {
    /** The timestamp header's value: Unix seconds. */
    readonly value: string | readonly string[] | undefined;
    /** How far it may be from now, in either direction, in seconds. */
    readonly toleranceSeconds: number;
    /** Current time in Unix seconds; defaults to the clock. */
    readonly nowSeconds?: number;
  };
}

const SHA256_HEX = /^(?:sha256=)?([0-9a-f]{64})$/i;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks a Keplars signature: HMAC-SHA256 of the raw body (or of `${timestamp}.${rawBody}`), hex.
 * Returns `undefined` when it is valid, or the reason it is not. Compares in constant time and never
 * throws on malformed input.
 *
 * @example
 * const rejection = verifyKeplarsSignature({ rawBody, signature: headers['x-keplars-signature'], secrets: [secret] });
 * if (rejection) throw new UnauthorizedException();
 */
export function verifyKeplarsSignature(input: SignatureInput): SignatureRejection | undefined {
  const signed = readKeplarsSignature(input);
  if ('rejection' in signed) return signed.rejection;
  return matchesAnySecret(signed, input.rawBody, input.secrets) ? undefined : 'signature does not match';
}

/** A signature header that is well formed (and, with the timestamped scheme, within tolerance). */
export interface ReadSignature {
  /** The digest the header claims, as bytes. */
  readonly expected: Buffer;
  /** The timestamp that is part of the signed content, with the timestamped scheme. */
  readonly timestamp: string | undefined;
}

/**
 * The first half of {@link verifyKeplarsSignature}: everything that needs no secret. A route whose
 * secrets are looked up per request checks this first, so a request that could never verify costs no
 * lookup.
 */
export function readKeplarsSignature(input: Omit<SignatureInput, 'secrets'>): ReadSignature | { readonly rejection: SignatureRejection } {
  if (input.signature === undefined || input.signature === '') return { rejection: 'signature header missing' };
  // A repeated header arrives as a list, or joined with ", ": neither is one valid signature.
  if (typeof input.signature !== 'string') return { rejection: 'signature malformed' };
  const hex = SHA256_HEX.exec(input.signature.trim())?.[1];
  if (hex === undefined) return { rejection: 'signature malformed' };
  const expected = Buffer.from(hex, 'hex');

  let timestamp: string | undefined;
  if (input.timestamp) {
    const value = input.timestamp.value;
    if (value === undefined || value === '') return { rejection: 'timestamp header missing' };
    if (typeof value !== 'string' || !UNIX_SECONDS.test(value.trim())) return { rejection: 'timestamp malformed' };
    timestamp = value.trim();
    const now = input.timestamp.nowSeconds ?? Math.floor(Date.now() / 1000);
    if (Math.abs(now - Number(timestamp)) > input.timestamp.toleranceSeconds) return { rejection: 'timestamp outside tolerance' };
  }
  return { expected, timestamp };
}

/** The second half: whether any of the secrets made this signature, compared in constant time. */
export function matchesAnySecret(signed: ReadSignature, rawBody: Buffer, secrets: readonly string[]): boolean {
  let matched = false;
  // Every secret is tried, so the time taken does not tell which one matched.
  for (const secret of secrets) {
    matched = timingSafeEqual(keplarsDigest(secret, rawBody, signed.timestamp), signed.expected) || matched;
  }
  return matched;
}

/**
 * The signature Keplars puts in `X-Keplars-Signature` for this body: lower-case hex, without prefix.
 * With `timestamp` (Unix seconds), the timestamped scheme's signature. The secret is used as it is
 * (a `whsec_…` secret is not base64-decoded).
 *
 * @example
 * const body = JSON.stringify({ id: 'evt_1', type: 'email.opened', data: { email_id: 'email_1' } });
 * const headers = { 'content-type': 'application/json', 'x-keplars-signature': `sha256=${signKeplarsPayload(body, secret)}` };
 */
export function signKeplarsPayload(rawBody: Buffer | string, secret: string, timestamp?: number | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return keplarsDigest(secret, body, timestamp === undefined ? undefined : String(timestamp)).toString('hex');
}

function keplarsDigest(secret: string, rawBody: Buffer, timestamp: string | undefined): Buffer {
  const hmac = createHmac('sha256', secret);
  if (timestamp !== undefined) hmac.update(`${timestamp}.`);
  return hmac.update(rawBody).digest();
}
