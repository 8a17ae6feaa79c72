import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsPayloadOverrides } from 'nestjs-keplars-webhook/testing';
import request from 'supertest';
import { ADAPTERS } from '../../../test/support/webhook-app.js';
import { LOGIC_DATABASES, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// GET /, the sample's read-only page of what the ledger kept, as HTML over HTTP on Express and
// Fastify: what it lists, and that what comes from events is only ever text on it. (The browser check,
// test/browser/ledger-page.browser-spec.ts, looks at it in a real Chromium.)

async function send(app: INestApplication, type: string, overrides: KeplarsPayloadOverrides): Promise<Record<string, unknown>> {
  const payload = buildKeplarsPayload(type, overrides);
  expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).status).toBe(200);
  return payload;
}

/** A subject, an address and a link as someone hostile could make Keplars carry them. */
const HOSTILE_SUBJECT = '<script>alert("subject")</script> & <img src=x onerror=alert(1)>';
const HOSTILE_URL = 'javascript:alert("click")';

describe.each(LOGIC_DATABASES.flatMap((database) => ADAPTERS.map((adapter) => [database, adapter] as const)))('on %s, %s', (database, adapter) => {
  let app: INestApplication;
  const page = (query = '') => request(app.getHttpServer()).get(`/${query}`);
  beforeAll(async () => {
    app = await startSampleApp(onDatabase(database), undefined, [], adapter);
  });
  afterAll(() => app.close());

  it('says what to do while nothing has arrived', async () => {
    const response = await page();
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(response.text).toContain('No email yet. Send an event with <code>npm run send -- --type email.delivered</code>');
    expect(response.text).toContain('No address is suppressed.');
  });

  it('lists recent emails with their status, one email\'s timeline with ?email=, and the suppressed addresses', async () => {
    await send(app, 'email.delivered', { emailId: 'em_page_1', recipient: 'reader@example.com', subject: 'Your receipt', timestamp: new Date('2025-06-15T14:00:00Z') });
    await send(app, 'email.opened', { emailId: 'em_page_1', recipient: 'reader@example.com', timestamp: new Date('2025-06-15T14:05:00Z') });
    await send(app, 'email.bounced', { emailId: 'em_page_2', bounceType: 'hard', recipient: 'gone@example.com', subject: 'Welcome', timestamp: new Date('2025-06-15T14:10:00Z') });

    const list = (await page()).text;
    expect(list).toMatch(/<a href="\/\?email=em_page_1">em_page_1<\/a>[^]*reader@example\.com[^]*Your receipt[^]*data-status="opened">opened</);
    expect(list).toMatch(/<a href="\/\?email=em_page_2">em_page_2<\/a>[^]*data-status="bounced">bounced</);
    expect(list.indexOf('em_page_2')).toBeLessThan(list.indexOf('em_page_1')); // the most recent event first
    expect(list).toMatch(/<td>gone@example\.com<\/td>\s*<td class="reason">hard-bounce<\/td>\s*<td><time datetime="2025-06-15T14:10:00.000Z">2025-06-15 14:10:00 UTC<\/time><\/td>/);
    expect(list).not.toContain('id="timeline"');

    const timeline = (await page('?email=em_page_1')).text;
    expect(timeline).toContain('<section id="timeline"');
    expect(timeline).toMatch(/<li><span class="when"><time datetime="2025-06-15T14:00:00.000Z">[^<]*<\/time><\/span> <strong>email.delivered<\/strong>/);
    expect(timeline).toMatch(/<strong>email.opened<\/strong>/);
    expect(timeline).toContain('<dt>Opens</dt><dd>once, <time datetime="2025-06-15T14:05:00.000Z">');

    expect((await page('?email=em_never_sent')).text).toContain('No event has been received for this email.');
  });

  it('shows what events carry as text: markup in a subject, an address or a link never reaches the page as markup', async () => {
    await send(app, 'email.clicked', { emailId: 'em_"hostile"<b>', recipient: '"<i>x</i>"@example.com', subject: HOSTILE_SUBJECT, url: HOSTILE_URL });
    await send(app, 'email.complained', { emailId: 'em_"hostile"<b>', recipient: '"<i>x</i>"@example.com' });

    for (const query of ['', `?email=${encodeURIComponent('em_"hostile"<b>')}`]) {
      const response = await page(query);
      expect(response.status).toBe(200);
      expect(response.text).not.toMatch(/<script|<img|<b>|<i>|href="javascript:/);
      expect(response.text).toContain('&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
      expect(response.text).toContain('&quot;&lt;i&gt;x&lt;/i&gt;&quot;@example.com');
    }
    expect((await page(`?email=${encodeURIComponent('em_"hostile"<b>')}`)).text).toContain('javascript:alert(&quot;click&quot;)'); // the link as text only
    // And the browser is told to run no script and load nothing, should anything slip through.
    expect((await page()).headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  });

  it('answers 400 for a cursor no page handed out', async () => {
    const response = await page('?cursor=not-a-cursor');
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('is not a cursor of this list');
  });
});
