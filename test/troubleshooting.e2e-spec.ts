import { Injectable } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { readFileSync } from 'node:fs';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailOpenedEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 11, point 3: the README's forRootAsync example lacked `imports: [ConfigModule]` and crashed
// with an error that is easy to misread. The example now works, and the error it gave is the one the
// Troubleshooting guide (docs/troubleshooting.md) names, with the fix.

const SECRET = 'whsec_troubleshooting';
const readme = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

@Injectable()
class OpenedHandler {
  readonly seen: string[] = [];
  @OnKeplarsEvent('email.opened')
  onOpened(event: EmailOpenedEvent): void {
    this.seen.push(event.id);
  }
}

const readmeExample = (imports: boolean) =>
  KeplarsWebhookModule.forRootAsync({
    ...(imports ? { imports: [ConfigModule] } : {}),
    inject: [ConfigService],
    useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('KEPLARS_WEBHOOK_SECRET') }),
  });

describe.each(ADAPTERS)('the forRootAsync example with @nestjs/config on %s', (adapter) => {
  beforeAll(() => {
    process.env.KEPLARS_WEBHOOK_SECRET = SECRET;
  });

  it("starts as the README shows it (imports: [ConfigModule]), and handles an event", async () => {
    const app = await createWebhookApp({ adapter, imports: [ConfigModule.forRoot(), readmeExample(true)], providers: [OpenedHandler] });
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened', { id: 'evt_ts_1' }), { secret: SECRET });
    expect(response.status).toBe(200);
    expect(app.get(OpenedHandler).seen).toEqual(['evt_ts_1']);
    await app.close();
  });

  it("without imports: [ConfigModule], fails with the error the Troubleshooting guide names, and it gives the fix", async () => {
    const failure: Error = await createWebhookApp({ adapter, imports: [ConfigModule.forRoot(), readmeExample(false)] }).then(
      () => new Error('started'),
      (error: Error) => error,
    );
    const named = /Nest can't resolve dependencies of the KEPLARS_WEBHOOK_MODULE_OPTIONS \(\?\)/;
    expect(failure.message).toMatch(named);
    expect(failure.message).toContain('ConfigService at index [0]');
    const guide = readme('../docs/troubleshooting.md');
    expect(guide).toMatch(named);
    expect(guide).toContain('imports: [ConfigModule]');
    expect(guide).toContain('ConfigModule.forRoot({ isGlobal: true })');
  });
});
