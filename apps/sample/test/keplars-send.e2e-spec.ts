import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { runKeplarsSend } from '../../../libs/keplars-webhook/src/cli/run-keplars-send.js';
import { createWebhookApp } from '../../../test/support/webhook-app.js';
import { get, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The local sender (`npm run send`) against the running sample, as a newcomer uses it.

interface Run {
  code: number;
  out: string;
  err: string;
}

async function send(argv: string[], env: Record<string, string | undefined> = { KEPLARS_WEBHOOK_SECRET: TEST_SECRET }): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeplarsSend(argv, env, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('keplars-send against the sample app', () => {
  let app: INestApplication;
  let url: string;
  const folder = mkdtempSync(join(tmpdir(), 'keplars-send-'));

  beforeAll(async () => {
    app = await startSampleApp();
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/webhooks/keplars`;
  });
  afterAll(async () => {
    await app.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('sends a delivered, then an opened, that GET /emails/:emailId shows', async () => {
    const delivered = await send(['--url', url, '--type', 'email.delivered', '--email-id', 'em_cli']);
    expect(delivered.code).toBe(0);
    expect(delivered.out).toContain(`POST ${url}`);
    expect(delivered.out).toContain('signed  with KEPLARS_WEBHOOK_SECRET from the environment');
    expect(delivered.out).toMatch(/Answer: 200 OK\n\{\n {2}"received": true\n\}\n→ accepted/);

    expect((await send(['--url', url, '--type', 'email.opened', '--email-id', 'em_cli', '--shape', 'flat'])).code).toBe(0);
    const { body } = await get(app, '/emails/em_cli');
    expect(body.status).toBe('opened');
    expect(body.timeline.map((entry: { type: string }) => entry.type)).toEqual(['email.delivered', 'email.opened']);
  });

  it('--repeat 2 sends the same delivery twice: the second is a duplicate', async () => {
    const run = await send(['--url', url, '--repeat', '2']);
    expect(run.code).toBe(0);
    const [first, second] = run.out.split(/\nDelivery \d of 2: /).slice(1);
    expect(first).toMatch(/^200 OK\n\{\n {2}"received": true\n\}/);
    expect(second).toMatch(/^200 OK\n\{\n {2}"received": true,\n {2}"duplicate": true\n\}\n→ already handled/);
  });

  it('--bad-signature shows the 401, which is what it asked for (exit 0)', async () => {
    const run = await send(['--url', url, '--bad-signature'], {});
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/Answer: 401 Unauthorized\n[^]*→ refused, as expected with --bad-signature/);
  });

  it('a secret the app does not verify with: 401, exit 1, and a hint that names where the secret came from', async () => {
    const run = await send(['--url', url, '--secret', 'whsec_not_this_one']);
    expect(run.code).toBe(1);
    expect(run.out).toContain('refused: the signature does not verify. Sign with the secret the app verifies with (this run used --secret)');
  });

  it('signs with the secret of the first --dotenv file that sets it', async () => {
    writeFileSync(join(folder, '.env'), `KEPLARS_WEBHOOK_SECRET=${TEST_SECRET}\n`);
    const run = await send(['--url', url, '--dotenv', join(folder, 'missing.env'), '--dotenv', join(folder, '.env')], {});
    expect(run.code).toBe(0);
    expect(run.out).toContain(`signed  with KEPLARS_WEBHOOK_SECRET from ${join(folder, '.env')}`);
  });

  it('--timestamp signs `${timestamp}.${body}`, which the sample (timestamped scheme off) refuses, saying so', async () => {
    const run = await send(['--url', url, '--timestamp']);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/signed {2}with .*, timestamped \d{10}/);
    expect(run.out).toContain('drop --timestamp unless the app uses the timestamped scheme');
  });

  it('no secret anywhere: exit 2, saying where to put one', async () => {
    const run = await send(['--url', url], {});
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^No secret to sign with\. Use the one your app verifies with: pass --secret, set KEPLARS_WEBHOOK_SECRET, or point --dotenv/);
  });

  it('a wrong path: 404, exit 1, and the hint to pass the full --url', async () => {
    const run = await send(['--url', url.replace('/webhooks/keplars', '/webhooks/keplar')]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('nothing answers at /webhooks/keplar: if the webhook route has another path');
  });

  it('nothing listening: exit 1, asking whether the app is running', async () => {
    const port = await closedPort();
    const run = await send(['--url', `http://127.0.0.1:${port}/webhooks/keplars`]);
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `Could not reach http://127.0.0.1:${port}/webhooks/keplars (nothing is listening on 127.0.0.1:${port}). ` +
        'Is the app running? Start it with `npm start`, or pass --url where it listens.',
    );
  });

  it('--help prints the usage and sends nothing', async () => {
    const run = await send(['--help']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Usage: keplars-webhook-send \[options\]/);
    expect(run.out).not.toContain('POST');
  });

  // Issue 11, point 8: outside an app that has the package, `npx keplars-webhook-send` asks the
  // registry for another package of that name.
  it('--help says how to run it with npx from outside an app that has the package', async () => {
    const run = await send(['--help']);
    expect(run.out).toContain('npx -p nestjs-keplars-webhook keplars-webhook-send [options]  anywhere else');
    expect(run.out).toContain('npx keplars-webhook-send [options]                           in an app that has nestjs-keplars-webhook installed');
  });
});

describe('keplars-send --timestamp against an app with the timestamped scheme on', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await createWebhookApp({ adapter: 'express', imports: [KeplarsWebhookModule.forRoot({ secret: TEST_SECRET, timestamp: true })] });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/webhooks/keplars`;
  });
  afterAll(() => app.close());

  it('is accepted with --timestamp', async () => {
    const run = await send(['--url', url, '--timestamp', '--repeat', '2']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('"duplicate": true');
  });

  it('is refused without it, with the hint to add it', async () => {
    const run = await send(['--url', url]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('if the app uses the timestamped scheme, add --timestamp');
  });
});
