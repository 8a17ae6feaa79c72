import { Injectable, Scope } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent, type KeplarsEventPattern } from 'nestjs-keplars-webhook';
import { CapturedLogs } from './support/captured-logs.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §2: a configuration that cannot work refuses to start, and the message says how to fix it.

@Injectable({ scope: Scope.REQUEST })
class RequestScopedHandler {
  @OnKeplarsEvent('email.opened')
  onOpened(_event: KeplarsEvent): void {}
}

@Injectable()
class TypoHandler {
  @OnKeplarsEvent('email.opend' as KeplarsEventPattern)
  onOpened(_event: KeplarsEvent): void {}
}

@Injectable()
class MalformedHandler {
  @OnKeplarsEvent([] as KeplarsEventPattern[])
  onNothing(_event: KeplarsEvent): void {}
}

describe.each(ADAPTERS)('startup checks on %s', (adapter) => {
  it.each([
    ['no secret (an unset environment variable)', () => KeplarsWebhookModule.forRoot(process.env.KEPLARS_SECRET_THAT_IS_NOT_SET), /no secret was given.*process\.env\.KEPLARS_WEBHOOK_SECRET/s],
    ['an empty secret', () => KeplarsWebhookModule.forRoot(''), /secret is empty/],
    ['a malformed option', () => KeplarsWebhookModule.forRoot({ secret: 's', deduplication: { windowSeconds: -1 } }), /deduplication.windowSeconds must be a positive number \(got -1\)/],
    ['a malformed route option', () => KeplarsWebhookModule.forRoot({ secret: 's', path: 'hooks?x' }), /path must be a URL path/],
    [
      'a forRootAsync factory that returns no secret',
      () => KeplarsWebhookModule.forRootAsync({ useFactory: () => ({ secret: undefined as unknown as string }) }),
      /no secret was given/,
    ],
    // Issue 11, point 4: misspelled nested options used to start the app with the defaults.
    ['a misspelled nested option (forRoot)', () => KeplarsWebhookModule.forRoot({ secret: 's', deduplication: { windowSecond: 60 } as never }), /unknown option "deduplication\.windowSecond" \(did you mean "deduplication\.windowSeconds"\?\)/],
    [
      'a misspelled nested option (forRootAsync)',
      () => KeplarsWebhookModule.forRootAsync({ useFactory: () => ({ secret: 's', timestamp: { tolerance: 60 } as never }) }),
      /unknown option "timestamp\.tolerance"\. The options of timestamp are: header, toleranceSeconds/,
    ],
    [
      'path returned by the forRootAsync factory',
      () => KeplarsWebhookModule.forRootAsync({ useFactory: () => ({ secret: 's', path: '/hooks' }) as never }),
      /"path" was returned by the forRootAsync\(\) factory.*put it beside useFactory/,
    ],
    ['a key forRootAsync() does not take', () => KeplarsWebhookModule.forRootAsync({ useFactory: () => ({ secret: 's' }), injects: [] } as never), /unknown option forRootAsync\(\{ injects \}\)/],
  ])('refuses %s', async (_, module, message) => {
    // Route options are checked as the module is imported; the others as the app starts.
    await expect(async () => createWebhookApp({ adapter, imports: [module()] })).rejects.toThrow(message);
  });

  it('refuses an app created without rawBody: true, saying how to enable it', async () => {
    await expect(createWebhookApp({ adapter, rawBody: false, imports: [KeplarsWebhookModule.forRoot('s')] })).rejects.toThrow(
      /raw request body is not available.*rawBody: true/s,
    );
  });

  it('refuses a handler on a request-scoped provider, naming it', async () => {
    await expect(createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot('s')], providers: [RequestScopedHandler] })).rejects.toThrow(
      /RequestScopedHandler\.onOpened handles Keplars events but RequestScopedHandler is request-scoped.*singleton/s,
    );
  });

  it('refuses an @OnKeplarsEvent() that names no type', async () => {
    await expect(createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot('s')], providers: [MalformedHandler] })).rejects.toThrow(
      /@OnKeplarsEvent\(\) on MalformedHandler\.onNothing needs event types/,
    );
  });

  it('starts, with a warning, when a handler names a type Keplars does not send (likely a typo)', async () => {
    const logs = new CapturedLogs();
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot('s')], providers: [TypoHandler], logger: logs });
    await app.close();
    const warnings = logs.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warnings).toEqual([expect.stringMatching(/^TypoHandler\.onOpened listens to "email\.opend", which is not a Keplars event type .*If it is a typo, fix it/)]);
  });
});
