// Step 1 without a framework: the core's verifier on plain headers and bytes. The HTTP answers and log
// lines of each case are tested end to end (test/status-table, test/tenants, test/log-safety); this
// pins the decisions themselves, and that the verifier needs nothing of Nest to make them.
import { signKeplarsPayload } from './keplars-signature.js';
import { SignedDeliveryClock } from './signed-delivery-clock.js';
import { TenantSecretCache } from './tenant-secret-cache.js';
import { RequestVerifier, type Refusal, type RequestVerifierSettings } from './verify-request.js';

const SECRET = 'whsec_core';
const body = Buffer.from('{"id":"evt_1","type":"email.opened","data":{"email_id":"e_1"}}');
const signedHeaders = (secret = SECRET, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-keplars-signature': `sha256=${signKeplarsPayload(body, secret)}`,
  ...extra,
});

function verifier(settings: Partial<RequestVerifierSettings> = {}): { verifier: RequestVerifier; clock: SignedDeliveryClock } {
  const clock = new SignedDeliveryClock();
  const made = new RequestVerifier({ secrets: [SECRET], signatureHeader: 'x-keplars-signature', maxBodyBytes: 1024, clock: clock.endpoint('default'), ...settings });
  return { verifier: made, clock };
}

const summaryOf = (refusal: Refusal | undefined) => refusal && { status: refusal.status, reason: refusal.reason, summary: refusal.summary };

describe('RequestVerifier', () => {
  it('lets a correctly signed JSON body through, and ticks the endpoint\'s clock', async () => {
    const { verifier: verify, clock } = verifier();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = Date.now() + 10_000;
    const before = clock.ages(later).get('default')!;
    expect(verify.verify({ headers: signedHeaders('whsec_other'), rawBody: body })).toBeDefined();
    expect(clock.ages(later).get('default')).toBe(before); // a refused request does not count
    expect(verify.verify({ headers: signedHeaders(), rawBody: body })).toBeUndefined();
    expect(clock.ages(later).get('default')!).toBeLessThan(before);
  });

  it('refuses, in this order, another content type (415), an encoding (415), a body over the limit (413), then a bad signature (401)', () => {
    const { verifier: verify } = verifier({ maxBodyBytes: body.length - 1 });
    expect(summaryOf(verify.verify({ headers: { ...signedHeaders(), 'content-type': 'text/plain' }, rawBody: body }) as Refusal)).toEqual({
      status: 415,
      reason: 'content_type',
      summary: 'with another Content-Type (415)',
    });
    expect(summaryOf(verify.verify({ headers: signedHeaders(SECRET, { 'content-encoding': 'gzip' }), rawBody: body }) as Refusal)).toEqual({
      status: 415,
      reason: 'content_type',
      summary: 'with an unsupported encoding (415)',
    });
    expect(summaryOf(verify.verify({ headers: signedHeaders(), rawBody: body }) as Refusal)).toEqual({ status: 413, reason: 'size', summary: 'over maxBodyBytes (413)' });
    const { verifier: roomy } = verifier();
    const wrong = roomy.verify({ headers: signedHeaders('whsec_other'), rawBody: body }) as Refusal;
    expect(summaryOf(wrong)).toEqual({ status: 401, reason: 'signature', summary: 'with a signature that does not match (401)' });
    expect(wrong.line('203.0.113.9')).toMatch(/^Rejected a webhook from 203\.0\.113\.9: signature does not match \(if the secret was rotated/);
    expect(wrong.line('203.0.113.9')).not.toContain(SECRET);
  });

  it('counts a timestamp problem apart from a signature problem', () => {
    const { verifier: verify } = verifier({ timestamp: { header: 'x-keplars-timestamp', toleranceSeconds: 300 } });
    const refused = verify.verify({ headers: signedHeaders(SECRET, { 'x-keplars-timestamp': '1' }), rawBody: body }) as Refusal;
    expect(summaryOf(refused)).toEqual({ status: 401, reason: 'timestamp', summary: 'with a timestamp outside the tolerance (401)' });
  });

  describe('on a tenant route', () => {
    const tenantsOf = (secrets: Record<string, string>, fail = false) =>
      new TenantSecretCache(async (tenant) => {
        if (fail) throw new Error('database is down');
        return secrets[tenant];
      }, { ttlMs: 60_000, maxTenants: 10, timeoutMs: 1000 });

    it("checks the tenant's own secret, looked up once and then from the cache", async () => {
      const { verifier: verify } = verifier({ tenants: tenantsOf({ acme: 'whsec_acme' }) });
      const request = { headers: signedHeaders('whsec_acme'), rawBody: body };
      await expect(verify.verify(request, 'acme')).resolves.toBeUndefined();
      expect(verify.verify(request, 'acme')).toBeUndefined(); // cached: no promise
    });

    it('answers an unknown tenant like a wrong signature (401), and a failed lookup 503, logged as an error', async () => {
      const { verifier: unknown } = verifier({ tenants: tenantsOf({}) });
      const refused = (await unknown.verify({ headers: signedHeaders(), rawBody: body }, 'ghost')) as Refusal;
      expect(summaryOf(refused)).toEqual({ status: 401, reason: 'signature', summary: 'for an unknown tenant (401)' });
      expect(refused.line(undefined)).toContain('for tenant "ghost"');

      const { verifier: down } = verifier({ tenants: tenantsOf({}, true) });
      const failed = (await down.verify({ headers: signedHeaders(), rawBody: body }, 'acme')) as Refusal;
      expect({ status: failed.status, reason: failed.reason, log: failed.log }).toEqual({ status: 503, reason: 'tenant_secret', log: 'error' });
      expect(failed.line('198.51.100.1')).toContain('its secret could not be looked up (resolveSecret threw: database is down)');
    });
  });
});
