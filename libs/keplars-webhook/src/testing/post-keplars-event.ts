import type { INestApplication } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { keplarsSignatureHeaders, type SignatureHeaderOptions } from './signing.js';

/**
 * How {@link postKeplarsEvent} signs and sends: the secret, where to post, and anything to change
 * to test a refusal (a wrong signature, no signature, other headers).
 */
export interface PostKeplarsEventOptions extends SignatureHeaderOptions {
  /** The secret to sign with (ignored when `signature` is given). */
  secret: string;
  /**
   * The route's path on the app, global prefix included: with several endpoints, the one to post to.
   * @default '/webhooks/keplars' ('/webhooks/keplars/:tenant' with `tenant`)
   */
  path?: string;
  /**
   * The tenant, on a route with `tenants`: fills the path's parameter (its `:name` segment),
   * URL-encoded. With a URL as target, fills the URL's.
   * @example postKeplarsEvent(app, payload, { tenant: 'acme', secret: acmeSecret }) // POST /webhooks/keplars/acme
   */
  tenant?: string;
  /** Send this signature header value instead of a valid one; `false` sends none. */
  signature?: string | false;
  /** More headers, or replacements (`content-type`, …). */
  headers?: Record<string, string>;
  /** Give up (reject) when no answer has come after this long, in ms. @default 30000 */
  timeoutMs?: number;
}

/** The app's answer to {@link postKeplarsEvent}. */
export interface KeplarsDeliveryResponse {
  /** The HTTP status, e.g. 200, or 401 for a refused signature. */
  readonly status: number;
  /** The JSON answer, parsed; the text if it is not JSON. */
  readonly body: any;
  /** The response headers, lower-case names (as Node.js gives them). */
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * Posts one signed event, as Keplars would, to a Nest app under test (started on a free loopback
 * port if it is not listening yet) or to a URL, and returns the answer. A string payload is sent
 * byte for byte; an object is JSON-serialised first.
 *
 * @example
 * const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret });
 * expect(response.status).toBe(200);
 * await postKeplarsEvent(app, payload, { path: '/webhooks/keplars/eu', secret: euSecret }); // a named endpoint
 */
export async function postKeplarsEvent(
  target: INestApplication | string,
  payload: string | Buffer | object,
  options: PostKeplarsEventOptions,
): Promise<KeplarsDeliveryResponse> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
  const signed = keplarsSignatureHeaders(body, options.secret, options);
  const signatureHeader = options.signatureHeader ?? 'x-keplars-signature';
  if (options.signature === false) delete signed[signatureHeader];
  else if (options.signature !== undefined) signed[signatureHeader] = options.signature;

  const path = options.path ?? (options.tenant === undefined ? '/webhooks/keplars' : '/webhooks/keplars/:tenant');
  const url = typeof target === 'string' ? new URL(target) : new URL(path, await baseUrlOf(target));
  if (options.tenant !== undefined) url.pathname = withTenant(url.pathname, options.tenant);
  return send(url, body, { 'content-type': 'application/json', ...signed, ...options.headers }, options.timeoutMs ?? 30_000);
}

/** The path with its `:parameter` segment replaced by the tenant. */
export function withTenant(path: string, tenant: string): string {
  const segments = path.split('/');
  const parameter = segments.findIndex((segment) => segment.startsWith(':') || segment.startsWith('%3A'));
  if (parameter === -1) throw new Error(`tenant: the path "${path}" has no :parameter segment to put the tenant in (e.g. /webhooks/keplars/:tenant)`);
  segments[parameter] = encodeURIComponent(tenant);
  return segments.join('/');
}

const listening = new WeakMap<INestApplication, Promise<void>>();

async function baseUrlOf(app: INestApplication): Promise<string> {
  const server = app.getHttpServer();
  if (!server.listening) {
    // Concurrent posts to an app that is not listening yet share one listen().
    if (!listening.has(app)) listening.set(app, app.listen(0, '127.0.0.1').then(() => undefined));
    await listening.get(app);
  }
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function send(url: URL, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<KeplarsDeliveryResponse> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: response.statusCode ?? 0, body: parsed, headers: response.headers });
      });
    });
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`no answer from ${url.href} within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
