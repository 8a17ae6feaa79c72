import type { INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { KeplarsWebhookModule, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, keplarsSignatureHeaders, postKeplarsEvent, signKeplarsPayload } from 'nestjs-keplars-webhook/testing';
import { loadFixtures } from './fixtures/fixtures.js';
import { CapturedLogs } from './support/captured-logs.js';
import { FlakyHandler } from './support/flaky-handler.js';
import { RecordingHandlers } from './support/recording-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §3, row by row, on Express and Fastify, with forRoot and with forRootAsync + @nestjs/config.
const SECRET = 'whsec_e2e_9f86d081884c7d65';
const OPTIONS: Omit<KeplarsWebhookOptions, 'secret'> = { maxBodyBytes: 8 * 1024 };

const configurations = [
  ['forRoot', () => [KeplarsWebhookModule.forRoot({ secret: SECRET, ...OPTIONS })]],
  [
    'forRootAsync + @nestjs/config',
    () => [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ KEPLARS_WEBHOOK_SECRET: SECRET })] }),
      KeplarsWebhookModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({ secret: config.getOrThrow<string>('KEPLARS_WEBHOOK_SECRET'), ...OPTIONS }),
      }),
    ],
  ],
] as const;

describe.each(ADAPTERS.flatMap((adapter) => configurations.map(([name, imports]) => [adapter, name, imports] as const)))(
  'SPEC §3 on %s with %s',
  (adapter, _, imports) => {
    let app: INestApplication;
    let handlers: RecordingHandlers;
    let flaky: FlakyHandler;
    const logs = new CapturedLogs();
    const post = (payload: string | object, options: Partial<Parameters<typeof postKeplarsEvent>[2]> = {}) =>
      postKeplarsEvent(app, payload, { secret: SECRET, ...options });
    const handlerRuns = () => handlers.runs() + [...flaky.attempts.values()].reduce((sum, n) => sum + n, 0);

    beforeAll(async () => {
      app = await createWebhookApp({ adapter, imports: [...imports()], providers: [RecordingHandlers, FlakyHandler], logger: logs });
      handlers = app.get(RecordingHandlers);
      flaky = app.get(FlakyHandler);
    });
    afterAll(async () => {
      await app.close();
      expect(logs.text()).not.toContain(SECRET);
    });

    describe('valid signature, valid payload, handlers succeed: 200 {"received":true}, each matching handler once', () => {
      it.each(loadFixtures().map((fixture) => [fixture.name, fixture]))('%s', async (_, fixture) => {
        const before = { opened: handlers.opened.length, bounced: handlers.bounced.length, all: handlers.everything.length };
        const response = await post(fixture.payload);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ received: true });

        expect(handlers.everything.length).toBe(before.all + 1);
        expect(handlers.opened.length).toBe(before.opened + (fixture.type === 'email.opened' ? 1 : 0));
        expect(handlers.bounced.length).toBe(before.bounced + (fixture.type === 'email.bounced' ? 1 : 0));
        const event = handlers.everything.at(-1)!;
        expect(event).toMatchObject({ type: fixture.type, emailId: fixture.expected.emailId, recipient: fixture.expected.recipient, body: fixture.payload });
        expect(event.timestamp).toBeInstanceOf(Date);
      });

      it('accepts bare and prefixed hex signatures of any case', async () => {
        for (const [format, transform] of [['bare', (s: string) => s.toUpperCase()], ['prefixed', (s: string) => s]] as const) {
          const body = JSON.stringify(buildKeplarsPayload('email.sent'));
          const signature = transform(keplarsSignatureHeaders(body, SECRET, { format })['x-keplars-signature']!);
          expect((await post(body, { signature })).status).toBe(200);
        }
      });
    });

    describe('the same event again after it was handled: 200 "duplicate":true, no handler runs', () => {
      it.each([['with a Keplars id', 'envelope'], ['without one (derived id)', 'flat'], ['without one (event + data)', 'event-data']] as const)(
        '%s',
        async (_, shape) => {
          const body = JSON.stringify(buildKeplarsPayload('email.delivered', { shape, emailId: `e_${shape}_dup` }));
          expect((await post(body)).body).toEqual({ received: true });
          const runs = handlerRuns();
          const again = await post(body);
          expect(again.status).toBe(200);
          expect(again.body).toEqual({ received: true, duplicate: true });
          expect(handlerRuns()).toBe(runs);
        },
      );
    });

    describe('signature missing, malformed or wrong: 401 in Nest\'s shape, no detail, no handler', () => {
      const body = JSON.stringify(buildKeplarsPayload('email.opened'));
      const valid = signKeplarsPayload(body, SECRET);
      it.each([
        ['missing', false as const],
        ['odd length', valid.slice(1)],
        ['not hex', `${valid.slice(0, 63)}z`],
        ['wrong prefix', `sha1=${valid}`],
        ['too long', `sha256=${valid}${valid}`],
        ['empty', ''],
        ['signed with another secret', signKeplarsPayload(body, 'not-the-secret')],
        ['signed over other bytes', signKeplarsPayload(`${body} `, SECRET)],
      ])('%s', async (reason, signature) => {
        const runs = handlerRuns();
        const mark = logs.mark();
        const response = await post(body, { signature });
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
        expect(handlerRuns()).toBe(runs);
        const warnings = logs.since(mark, 'warn');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.message).toMatch(/^Rejected a webhook from .*: signature (header missing|malformed|does not match) \(.+\) \(401\)\.$/);
      });

      it('is checked before the payload: an invalid, unsigned payload is 401, not 400', async () => {
        expect((await post('{"nothing":"valid"}', { signature: 'sha256=00' })).status).toBe(401);
      });

      it('is checked before the body is parsed: an unsigned or wrongly signed body that is not JSON is 401, not 400', async () => {
        for (const signature of [false as const, `sha256=${'ab'.repeat(32)}`]) {
          const response = await post('{"type": "email.opened",', { signature });
          expect(response.status).toBe(401);
          expect(response.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
        }
      });
    });

    describe('signature valid but body not JSON, not an object, or failing validation: 400, readable, no handler', () => {
      // Answered by the module itself (its header, its log line), not by the framework's JSON parser:
      // the signature was checked first (issue 12).
      it.each([
        ['not JSON', '{"type": "email.opened",', /^the body is not valid JSON: .+/],
        ['a list', '[{"type":"email.opened"}]', /^the body must be a JSON object$/],
        ['a string', '"email.opened"', /^the body must be a JSON object$/],
        ['a number', '42', /^the body must be a JSON object$/],
      ])('%s', async (_, body, message) => {
        const runs = handlerRuns();
        const mark = logs.mark();
        const response = await post(body);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: [expect.stringMatching(message)] });
        expect(response.headers['x-keplars-webhook-refused']).toBe('1');
        expect(handlerRuns()).toBe(runs);
        const warnings = logs.since(mark, 'warn').map((line) => line.message);
        expect(warnings).toEqual([expect.stringMatching(/^Rejected a signed webhook with an invalid payload \(400\): the body (is not valid JSON|must be a JSON object)/)]);
      });

      it('failing validation, with messages that say what is wrong', async () => {
        const runs = handlerRuns();
        const mark = logs.mark();
        const response = await post({ type: 'email.opened', id: 'evt_bad', data: { email_id: 42, metadata: 'x' } });
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: ['data.email_id must be a string', 'data.metadata must be an object'],
        });
        expect(handlerRuns()).toBe(runs);
        expect(logs.since(mark, 'warn').map((line) => line.message)).toEqual([
          'Rejected a signed webhook with an invalid payload (400): data.email_id must be a string; data.metadata must be an object',
        ]);
      });
    });

    describe('valid and of a type no handler takes (including unknown new types): 200, wildcard handlers only', () => {
      it.each([
        ['a new email.* type', 'email.reopened', { everything: 1, emailEvents: 1 }],
        ['a type outside email.*', 'webhook.test', { everything: 1, emailEvents: 0 }],
        ['a known type without a specific handler', 'email.queued', { everything: 1, emailEvents: 1 }],
      ])('%s', async (_, type, expected) => {
        const before = { everything: handlers.everything.length, emailEvents: handlers.emailEvents.length, opened: handlers.opened.length };
        const response = await post(buildKeplarsPayload(type));
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ received: true });
        expect(handlers.everything.length - before.everything).toBe(expected.everything);
        expect(handlers.emailEvents.length - before.emailEvents).toBe(expected.emailEvents);
        expect(handlers.opened.length).toBe(before.opened);
        expect(handlers.everything.at(-1)!.type).toBe(type);
      });
    });

    describe('a handler throws or rejects: 500 without detail, not marked handled, so the retry runs it again', () => {
      it('answers 500 in Nest\'s shape, logs the handler, event id and type, then the retry runs only the failed handler', async () => {
        const payload = buildKeplarsPayload('email.opened', { metadata: { fail: 1 } });
        const opened = handlers.opened.length;
        const mark = logs.mark();

        const failed = await post(payload);
        expect(failed.status).toBe(500);
        expect(failed.body).toEqual({ statusCode: 500, message: 'Internal Server Error' });
        expect(JSON.stringify(failed.body)).not.toContain('hunter2');
        const errors = logs.since(mark, 'error');
        expect(errors).toHaveLength(1);
        expect(errors[0]!.message).toContain(`Handler FlakyHandler.onEvent failed on email.opened ${String(payload.id)}`);
        expect(handlers.opened.length).toBe(opened + 1);

        const retried = await post(payload);
        expect(retried.status).toBe(200);
        expect(handlers.opened.length).toBe(opened + 1); // succeeded the first time: not run again
        expect(flaky.attempts.get(String(payload.id))).toBe(2);
        expect((await post(payload)).body).toEqual({ received: true, duplicate: true });
      });
    });

    describe('body over the size limit: 413, no handler', () => {
      it.each([
        ['over maxBodyBytes', 9 * 1024],
        ["over the framework's own limit", 2 * 1024 * 1024],
      ])('%s', async (_, size) => {
        const runs = handlerRuns();
        const payload = buildKeplarsPayload('email.opened', { metadata: { padding: 'x'.repeat(size) } });
        const response = await post(payload);
        expect(response.status).toBe(413);
        expect(response.body).toMatchObject({ statusCode: 413 });
        expect(handlerRuns()).toBe(runs);
      });
    });

    describe('the exact raw bytes are what is signed', () => {
      const body = '{\n  "type" : "email.opened",\t"id":"evt_bytes_' + adapter + '" ,\r\n "data":{ "subject":"Grüße aus Köln — 東京 ☃ naïve", "email_id":"e_bytes" }  }\n';

      it('a body with non-ASCII text and odd whitespace verifies', async () => {
        const response = await post(body);
        expect(response.status).toBe(200);
        expect(handlers.everything.at(-1)!.subject).toBe('Grüße aus Köln — 東京 ☃ naïve');
      });

      it('the same content re-serialised does not', async () => {
        const reserialised = JSON.stringify(JSON.parse(body));
        expect((await post(reserialised, { signature: `sha256=${signKeplarsPayload(body, SECRET)}` })).status).toBe(401);
      });
    });

    describe('a body that is not JSON by its Content-Type', () => {
      it('is answered 415 and runs no handler', async () => {
        const runs = handlerRuns();
        const response = await post(buildKeplarsPayload('email.opened'), { headers: { 'content-type': 'text/plain' } });
        expect(response.status).toBe(415);
        expect(handlerRuns()).toBe(runs);
      });
    });
  },
);
