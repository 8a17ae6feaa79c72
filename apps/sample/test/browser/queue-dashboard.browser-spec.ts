import { Injectable, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { KeplarsDeadLetters, OnKeplarsEvent, type EmailBouncedEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import type { Browser, Page } from 'playwright-core';
import { runKeplarsWebhookCli } from '../../../../libs/keplars-webhook/src/cli/run-keplars-webhook.js';
import { CapturedLogs } from '../../../../test/support/captured-logs.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../../../../test/support/redis.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { get, startSampleApp, TEST_SECRET } from '../support/sample-app.js';
import { launchChromium, loopbackOnly } from './headless-chromium.js';

// The "see it" check of queue mode, as an operator would: the sample in queue mode, the package's
// dashboard (KeplarsDashboardModule) in a real headless Chromium, on Express and on Fastify. A handler
// that fails for good leaves a dead letter the page shows under a "Dead letters" heading; once the
// downstream is back, replaying it with `keplars-webhook dead-letters replay` runs that handler once
// and the page shows no dead letter.

/** Where the screenshots go (git ignores the folder): look at them to see what the check saw. */
const SCREENSHOTS = fileURLToPath(new URL('../../../../test-results/browser/', import.meta.url));

const USER = 'operator';
const PASSWORD = 'browser-check-password';

/** A CRM the app tells about bounces; while it is down, its handler fails on every attempt. */
@Injectable()
class CrmNotifier {
  down = true;
  readonly notified: string[] = [];

  @OnKeplarsEvent('email.bounced')
  notifyCrm(event: EmailBouncedEvent): void {
    if (this.down) throw new Error('the CRM answered 503 Service Unavailable');
    this.notified.push(event.id);
  }
}

/** `keplars-webhook …` (the package's bin) with these arguments and environment: its exit code and output. */
async function keplarsWebhook(argv: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runKeplarsWebhookCli(argv, env, { out: (text) => lines.push(text), err: (text) => lines.push(text) });
  return { code, output: lines.join('\n') };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(() => browser?.close());

describe.each(['express', 'fastify'] as const)('the queue dashboard in a real browser, on %s', (adapter) => {
  const prefix = uniqueKeyPrefix(`sample-browser-${adapter}`).slice(0, -1);
  let app: INestApplication;
  let page: Page;
  let redis: Redis;
  const logs = new CapturedLogs();
  let dashboard: string;

  beforeAll(async () => {
    redis = connectRedis();
    app = await startSampleApp(
      {
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        QUEUE_DASHBOARD_USER: USER,
        QUEUE_DASHBOARD_PASSWORD: PASSWORD,
        // Few attempts, close together: a dead letter within a second, not a day.
        KEPLARS_QUEUE_ATTEMPTS: '2',
        KEPLARS_QUEUE_BACKOFF_SECONDS: '0.05',
      },
      logs,
      [CrmNotifier],
      adapter,
    );
    await app.listen(0, '127.0.0.1');
    dashboard = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/admin/queues`;
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await loopbackOnly(page);
  });
  afterAll(async () => {
    await page?.context().close();
    await app?.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('shows the webhook queue, under the package\'s title', async () => {
    const response = await page.goto(dashboard);
    expect(response?.status()).toBe(200);
    await page.getByText('Keplars deliveries').first().waitFor();
    expect(await page.title()).toBe('Keplars webhooks');
  });

  it('shows a dead letter under "Dead letters" once a handler has failed on every attempt, with its error and no button to change it; a replay after the fix empties it', async () => {
    const crm = app.get(CrmNotifier);
    const deadLetters = app.get(KeplarsDeadLetters);
    const payload = buildKeplarsPayload('email.bounced', { emailId: `em_browser_${adapter}`, recipient: `gone-${adapter}@example.com`, bounceType: 'hard' });
    const eventId = String(payload.id);

    expect((await postKeplarsEvent(app, payload, { secret: TEST_SECRET })).status).toBe(200);
    await waitFor(async () => (await deadLetters.count()) === 1, 'the delivery to become a dead letter');

    // The operator follows the dashboard's own "Dead letters" link (its header menu) to the failed list.
    await page.goto(dashboard);
    await page.locator('header button[aria-haspopup="menu"], button[aria-haspopup="menu"]').last().click();
    await page.getByText('Dead letters', { exact: true }).click();
    await page.waitForURL(/\/queue\/keplars-webhook\?status=failed$/);
    await page.getByText('Failed = dead letters').first().waitFor();
    await page.getByText(eventId).first().waitFor();
    await page.getByText('the CRM answered 503 Service Unavailable').first().waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}dead-letter-${adapter}.png`, fullPage: true });
    // Read-only: none of the buttons that change the queue (a writable dashboard shows them here).
    for (const action of ['Retry all', 'Clean all']) expect(await page.getByRole('button', { name: action }).count()).toBe(0);

    // The downstream is back: the operator replays it with the package's command. Only the handler
    // that never succeeded runs.
    crm.down = false;
    expect((await keplarsWebhook(['dead-letters', 'list', '--prefix', prefix], { REDIS_URL })).output).toContain(eventId);
    const replay = await keplarsWebhook(['dead-letters', 'replay', '--all', '--prefix', prefix], { REDIS_URL });
    expect(replay).toMatchObject({ code: 0 });
    await waitFor(async () => crm.notified.length === 1 && (await deadLetters.count()) === 0, 'the replayed delivery to be handled');
    expect(crm.notified).toEqual([eventId]);
    // The email ledger had recorded the bounce on the first attempt, once, with its suppression.
    expect((await get(app, `/emails/em_browser_${adapter}`)).body).toMatchObject({ status: 'bounced', events: 1 });
    expect((await get(app, '/suppressions')).body.items).toEqual([expect.objectContaining({ address: `gone-${adapter}@example.com`, eventId })]);

    // The page agrees: no failed job is left. (A completed job is removed at once, so that only the
    // store's window decides what is a duplicate: the replayed delivery is not listed as completed.)
    await page.goto(`${dashboard}/queue/keplars-webhook?status=failed`);
    await page.getByText('No failed jobs in this queue.').waitFor();
    expect(await page.getByText(eventId).count()).toBe(0);
    await page.screenshot({ path: `${SCREENSHOTS}dead-letters-empty-${adapter}.png`, fullPage: true });
  });
});
