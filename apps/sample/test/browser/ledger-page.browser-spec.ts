import type { INestApplication } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { runKeplarsSend } from '../../../../libs/keplars-webhook/src/cli/run-keplars-send.js';
import { onDatabase, startSampleApp, TEST_SECRET } from '../support/sample-app.js';
import { launchChromium, loopbackOnly } from './headless-chromium.js';

// The "see it" check of the email ledger, as someone trying the sample would: the sample running,
// events sent the way `npm run send` sends them, and the sample's page (GET /) in a real headless
// Chromium, on Express and on Fastify. It shows the emails with their statuses, one email's timeline
// once clicked, and the address a hard bounce suppressed, which appears by itself on the open page.

/** Where the screenshots go (git ignores the folder): look at them to see what the check saw. */
const SCREENSHOTS = fileURLToPath(new URL('../../../../test-results/browser/', import.meta.url));

/** `npm run send -- …` against the app: the package's sender, in this process; fails the test unless accepted. */
async function send(url: string, ...argv: string[]): Promise<void> {
  const lines: string[] = [];
  const code = await runKeplarsSend(['--url', url, ...argv], { KEPLARS_WEBHOOK_SECRET: TEST_SECRET }, { out: (text) => lines.push(text), err: (text) => lines.push(text) });
  if (code !== 0) throw new Error(`keplars-send ${argv.join(' ')} exited ${code}:\n${lines.join('\n')}`);
}

/** The texts of the elements `selector` finds, in page order. */
const textsOf = (page: Page, selector: string) => page.locator(selector).allTextContents();

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(() => browser?.close());

describe.each(['express', 'fastify'] as const)('the ledger page in a real browser, on %s', (adapter) => {
  let app: INestApplication;
  let page: Page;
  let home: string;
  let webhook: string;

  beforeAll(async () => {
    // Postgres, whose start takes milliseconds (the page is the same on PGlite).
    app = await startSampleApp(onDatabase('Postgres'), undefined, [], adapter);
    await app.listen(0, '127.0.0.1');
    home = `${await app.getUrl()}/`.replace('[::1]', '127.0.0.1');
    webhook = `${home}webhooks/keplars`;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    await loopbackOnly(page);

    // Two emails' lives, as the sender posts them: one read and clicked, one still on its way.
    for (const type of ['queued', 'sent', 'delivered', 'opened', 'clicked']) await send(webhook, '--type', `email.${type}`, '--email-id', 'em_demo_read', '--recipient', 'reader@example.com');
    for (const type of ['sent', 'delivered']) await send(webhook, '--type', `email.${type}`, '--email-id', 'em_demo_sent', '--recipient', 'customer@example.com', '--shape', 'flat');
  });
  afterAll(async () => {
    await page?.context().close();
    await app?.close();
  });

  it('lists the emails sent, the most recent first, each with its status', async () => {
    const response = await page.goto(home);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Keplars sample: emails and suppressions');
    await page.getByRole('heading', { name: 'Recent emails' }).waitFor();
    expect(await textsOf(page, '#emails tbody td:first-child a')).toEqual(['em_demo_sent', 'em_demo_read']);
    expect(await textsOf(page, '#emails tbody .status')).toEqual(['delivered', 'clicked']);
    expect(await page.locator('#emails tbody tr', { hasText: 'em_demo_read' }).textContent()).toContain('reader@example.com');
  });

  it('shows a hard-bounced address on the suppression list, without a reload by hand', async () => {
    await page.goto(home);
    await page.getByText('No address is suppressed.').waitFor();

    await send(webhook, '--type', 'email.sent', '--email-id', 'em_demo_gone', '--recipient', 'gone@example.com');
    await send(webhook, '--type', 'email.bounced', '--email-id', 'em_demo_gone', '--recipient', 'gone@example.com');

    // The page reloads itself every few seconds: the bounce lands on it.
    const row = page.locator('#suppressions tbody tr', { hasText: 'gone@example.com' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td').allTextContents()).toEqual(['gone@example.com', 'hard-bounce', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/), 'never', expect.stringMatching(/^event evt_/)]);
    expect(await page.locator('#emails tbody tr', { hasText: 'em_demo_gone' }).locator('.status').textContent()).toBe('bounced');
  });

  it("shows one email's timeline when it is clicked", async () => {
    await page.goto(home);
    await page.getByRole('link', { name: 'em_demo_read' }).click();
    await page.waitForURL(/\?email=em_demo_read$/);

    const timeline = page.locator('#timeline');
    await timeline.getByRole('heading', { name: /^Email em_demo_read/ }).waitFor();
    expect(await timeline.locator('h2 .status').textContent()).toBe('clicked');
    expect(await timeline.locator('li strong').allTextContents()).toEqual(['email.queued', 'email.sent', 'email.delivered', 'email.opened', 'email.clicked']);
    expect(await timeline.locator('li', { hasText: 'email.clicked' }).textContent()).toContain('https://example.com/pricing?utm_source=keplars');
    expect(await timeline.locator('dd').allTextContents()).toEqual(['reader@example.com', 'Test event from keplars-send', expect.stringMatching(/^once, /), expect.stringMatching(/^once, /)]);
    expect(await page.locator('#emails tr.selected td:first-child a').textContent()).toBe('em_demo_read');
    expect(await page.locator('#suppressions tbody tr').count()).toBe(1);

    await page.screenshot({ path: `${SCREENSHOTS}ledger-page-${adapter}.png`, fullPage: true });
  });
});
