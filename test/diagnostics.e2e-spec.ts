import { Injectable, Module, UnauthorizedException, type CanActivate, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailOpenedEvent, type KeplarsIdempotencyStore } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { runKeplarsSend } from '../libs/keplars-webhook/src/cli/run-keplars-send.js';
import { CapturedLogs } from './support/captured-logs.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 11, points 1 and 5 (SPEC §6): what the module tells the person wiring it up. At startup, the
// handlers it found (and a warning when there are none); on each answer, outside production, how many
// handlers ran; on each refusal of its own, a marker, so a refusal by the app around it is told apart.

const SECRET = 'whsec_diagnostics';
const REFUSED = 'x-keplars-webhook-refused';
const HANDLERS = 'x-keplars-webhook-handlers';

@Injectable()
class EngagementService {
  @OnKeplarsEvent('email.opened')
  onOpened(_event: EmailOpenedEvent): void {}

  @OnKeplarsEvent(['email.opened', 'email.clicked'])
  onEngagement(): void {}

  @OnKeplarsEvent('email.bounced')
  onBounced(): void {
    throw new Error('the database is down');
  }
}

@Injectable()
class OpenedListener {
  @OnEvent('keplars.email.opened')
  onOpened(): void {}
}

/** The usual global auth guard, with nothing marked public. */
@Injectable()
class SignInRequired implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException('Sign in first');
  }
}

async function send(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runKeplarsSend(argv, { KEPLARS_WEBHOOK_SECRET: SECRET }, { out: (text) => out.push(text), err: (text) => out.push(text) });
  return { code, out: out.join('\n') };
}

describe.each(ADAPTERS)('diagnostics on %s', (adapter) => {
  describe('at startup', () => {
    it('logs each handler found, with its event types and the mode', async () => {
      const logs = new CapturedLogs();
      const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [EngagementService], logger: logs });
      await app.close();
      const lines = logs.lines.filter((line) => line.context === 'KeplarsWebhook').map((line) => `${line.level} ${line.message}`);
      expect(lines).toEqual(
        expect.arrayContaining([
          'log Handler EngagementService.onOpened takes email.opened (inline mode: handlers run before Keplars gets its answer)',
          'log Handler EngagementService.onEngagement takes email.opened, email.clicked (inline mode: handlers run before Keplars gets its answer)',
          'log Handler EngagementService.onBounced takes email.bounced (inline mode: handlers run before Keplars gets its answer)',
        ]),
      );
      expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    });

    it('warns when it found no handler: the service was left out of providers', async () => {
      const logs = new CapturedLogs();
      const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], logger: logs });
      await app.close();
      expect(logs.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
        'No @OnKeplarsEvent() handler was found, so webhooks will be answered 200 and no handler of yours will run. ' +
          'If a service has @OnKeplarsEvent() methods, list it in the `providers` of a module the app imports: ' +
          'Nest never creates a service that is left out, so its handlers are never found.',
      ]);
    });
  });

  describe('on each answer', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      @Module({ imports: [EventEmitterModule.forRoot({ wildcard: true })], providers: [OpenedListener] })
      class ListenersModule {}
      app = await createWebhookApp({ adapter, imports: [ListenersModule, KeplarsWebhookModule.forRoot({ secret: SECRET, maxBodyBytes: 2048 })], providers: [EngagementService] });
      await app.listen(0, '127.0.0.1');
      url = `${await app.getUrl()}/webhooks/keplars`;
    });
    afterAll(() => app.close());

    it('says how many handlers and @OnEvent listeners ran, outside production', async () => {
      const opened = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
      expect(opened.headers[HANDLERS]).toBe('3'); // two methods, one @OnEvent listener
      const delivered = await postKeplarsEvent(app, buildKeplarsPayload('email.delivered'), { secret: SECRET });
      expect(delivered.headers[HANDLERS]).toBe('0');
      expect(opened.headers[REFUSED]).toBeUndefined();
    });

    it.each([
      ['a wrong signature', 401, () => postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: 'wrong' })],
      ['no signature', 401, () => postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, signature: false })],
      ['an invalid payload', 400, () => postKeplarsEvent(app, { event: 'email.opened', email_id: 42 }, { secret: SECRET })],
      ['a body over maxBodyBytes', 413, () => postKeplarsEvent(app, buildKeplarsPayload('email.opened', { extra: { padding: 'x'.repeat(3000) } }), { secret: SECRET })],
      ['a body not sent as JSON', 415, () => postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, headers: { 'content-type': 'text/plain' } })],
      ['a failing handler', 500, () => postKeplarsEvent(app, buildKeplarsPayload('email.bounced'), { secret: SECRET })],
    ])('marks its own refusal of %s (%i), without saying why', async (_, status, post) => {
      const response = await post();
      expect(response.status).toBe(status);
      expect(response.headers[REFUSED]).toBe('1');
      expect(response.headers[HANDLERS]).toBeUndefined();
    });

    it('the sender says how many handlers ran, and when none did, where to look', async () => {
      expect((await send(['--url', url, '--type', 'email.opened'])).out).toContain('→ accepted: 3 handlers ran');
      const none = await send(['--url', url, '--type', 'email.delivered']);
      expect(none.code).toBe(0);
      expect(none.out).toContain(
        "→ accepted, but no handler ran: nothing in the app takes email.delivered. If a service has @OnKeplarsEvent('email.delivered'), " +
          'check that it is listed in the providers of a module the app imports',
      );
    });
  });

  it.each([
    ['unreachable (503)', 503, { claim: () => Promise.reject(new Error('ECONNREFUSED')), settle: () => Promise.resolve() }],
    ['busy with the same event (409)', 409, { claim: () => Promise.resolve({ state: 'busy' as const }), settle: () => Promise.resolve() }],
  ])('marks its refusal when the deduplication store is %s', async (_, status, store: KeplarsIdempotencyStore) => {
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store } })], providers: [EngagementService] });
    const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
    await app.close();
    expect(response.status).toBe(status);
    expect(response.headers[REFUSED]).toBe('1');
  });

  it('does not say how many handlers ran in production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [EngagementService] });
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
      await app.close();
      expect(response.status).toBe(200);
      expect(response.headers[HANDLERS]).toBeUndefined();
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  describe("refused by the app's own global guard, before the module ran", () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [EngagementService, { provide: APP_GUARD, useClass: SignInRequired }] });
      await app.listen(0, '127.0.0.1');
    });
    afterAll(() => app.close());

    it('carries no marker', async () => {
      const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET });
      expect(response.status).toBe(401);
      expect(response.headers[REFUSED]).toBeUndefined();
    });

    it('and the sender says so, suggesting routeDecorators, instead of blaming the signature', async () => {
      const run = await send(['--url', `${await app.getUrl()}/webhooks/keplars`, '--type', 'email.opened']);
      expect(run.code).toBe(1);
      expect(run.out).not.toContain('signature does not verify');
      expect(run.out).toContain(
        "→ refused by your app before the webhook module ran (the answer lacks the module's x-keplars-webhook-refused marker): most likely a global guard, " +
          "such as an auth guard. Mark the webhook route public through the module's routeDecorators option, e.g. forRoot({ secret, routeDecorators: [Public()] })",
      );
    });
  });
});
