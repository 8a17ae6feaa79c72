import { signKeplarsPayload } from '../core/1-verify/keplars-signature.js';

/** How {@link keplarsSignatureHeaders} signs: the signature's format, the timestamped scheme, the header names. */
export interface SignatureHeaderOptions {
  /** Send `sha256=<hex>` (as most Keplars examples do) or bare hex. @default 'prefixed' */
  format?: 'prefixed' | 'bare';
  /**
   * Sign with the timestamped scheme: a Unix time in seconds, or `true` for now. Adds the
   * timestamp header.
   */
  timestamp?: number | true;
  /** The header to put the signature in: the module's `signatureHeader` option, if you changed it. @default 'x-keplars-signature' */
  signatureHeader?: string;
  /** The header to put the timestamp in: the module's `timestamp.header` option, if you changed it. @default 'x-keplars-timestamp' */
  timestampHeader?: string;
}

/**
 * The headers Keplars sends with this exact body: the signature, and the timestamp when asked.
 *
 * @example
 * const body = JSON.stringify(buildKeplarsPayload('email.opened'));
 * await request(app.getHttpServer()).post('/webhooks/keplars').set(keplarsSignatureHeaders(body, secret)).type('json').send(body);
 */
export function keplarsSignatureHeaders(rawBody: string | Buffer, secret: string, options: SignatureHeaderOptions = {}): Record<string, string> {
  const timestamp = options.timestamp === true ? Math.floor(Date.now() / 1000) : options.timestamp;
  const hex = signKeplarsPayload(rawBody, secret, timestamp);
  const headers: Record<string, string> = {
    [options.signatureHeader ?? 'x-keplars-signature']: options.format === 'bare' ? hex : `sha256=${hex}`,
  };
  if (timestamp !== undefined) headers[options.timestampHeader ?? 'x-keplars-timestamp'] = String(timestamp);
  return headers;
}
