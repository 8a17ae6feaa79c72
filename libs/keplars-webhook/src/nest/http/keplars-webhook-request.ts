import type { RawBodyRequest } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';

/** What the module reads of an Express or Fastify request. */
export type KeplarsWebhookRequest = RawBodyRequest<{
  readonly headers: IncomingHttpHeaders;
  readonly body?: unknown;
  readonly ip?: string;
  /** The route's parameters (the tenant, on a route with `tenants`), decoded. */
  readonly params?: Readonly<Record<string, string | undefined>>;
}>;

const JSON_CONTENT_TYPE = /^application\/json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

export function isJsonRequest(request: KeplarsWebhookRequest): boolean {
  const contentType = request.headers['content-type'];
  return contentType !== undefined && JSON_CONTENT_TYPE.test(contentType);
}

/**
 * Why the body cannot be verified as sent, or `undefined` if it can. Keplars signs the bytes of UTF-8
 * JSON it sends as they are; a body in a content encoding (gzip, deflate, br) or in another charset
 * would be decoded by one framework before verification and refused by another, so both answer 415.
 */
export function unsupportedBodyEncoding(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.split(',').some((coding) => !['', 'identity'].includes(coding.trim().toLowerCase()))) {
    return `Content-Encoding ${JSON.stringify(encoding)}, not identity`;
  }
  const match = CHARSET.exec(headers['content-type'] ?? '');
  const charset = match && (match[1] ?? match[2] ?? '').toLowerCase();
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') return `charset ${JSON.stringify(charset)}, not utf-8`;
  return undefined;
}

/** Whether the request declares a body (a length above zero, or chunks), as Node's HTTP parser reads it. */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}
