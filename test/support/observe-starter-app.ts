import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { types } from 'node:util';
import type { Redis } from 'ioredis';
import { KeplarsDeadLetters, KeplarsHealthIndicator, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEventFor, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './captured-logs.js';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from './redis.js';
import { createProxyingInstrument } from './proxying-instrument.js';
import { waitFor } from './wait-for.js';
import { ADAPTERS, type AdapterName } from './webhook-app.js';

// SPEC §6: the NestJS 12 starter wires @nestjs/observe into every new app, and Observe wraps every
// provider (and controller, and guard) in a Proxy. These suites boot the module the way that starter's
// main.ts and app.module.ts do, and run a delivery through it on both adapters and in both modes; then
// the same under a stricter proxying instrument (test/support/proxying-instrument.ts), so that what
// Observe happens to tolerate today (a #private member, say) is not what keeps the module working.

const SECRET = 'whsec_observe';

/** The starter's Quick start handler: counts what it was given. */
@Injectable()
class EmailActivityService {
  readonly opened = new Map<string, number>();

  @OnKeplarsEvent('email.opened')
  onOpened(event: KeplarsEventFor<'email.opened'>): void {
    this.opened.set(event.id, (this.opened.get(event.id) ?? 0) + 1);
  }
}

type Mode = 'inline' | 'queue';
type InstrumentName = 'Observe' | 'a stricter proxying instrument';
const INSTRUMENTS: readonly InstrumentName[] = ['Observe', 'a stricter proxying instrument'];

/**
 * One `describe` per adapter and mode, each booting an app as the NestJS 12 starter does:
 * `createObserveModule()`, `ObserveModule.forRoot({ appKey, appSecret, serviceId })` in the imports,
 * and `NestFactory.create(AppModule, { instrument: ObserveInstrument, rawBody: true })`.
 */
export function describeUnderObserve(label: string): void {
  const cases = INSTRUMENTS.flatMap((instrument) => ADAPTERS.flatMap((adapter) => (['inline', 'queue'] as const).map((mode) => [instrument, adapter, mode] as const)));
  describe.each(cases)(
    `${label}: under %s, as the NestJS 12 starter wires it, on %s, %s mode`,
    (instrumentName: InstrumentName, adapter: AdapterName, mode: Mode) => {
      const prefix = uniqueKeyPrefix(`observe-${adapter}-${mode}`).slice(0, -1);
      let app: INestApplication;
      let logs: CapturedLogs;
      let redis: Redis | undefined;

      beforeAll(async () => {
        // Observe's agent posts what it records to its collector every few seconds: keep that on this
        // machine (a closed port on loopback), read when Observe is first imported.
        process.env.OBSERVE_ENDPOINT ??= 'http://127.0.0.1:9';
        const { createObserveModule } = await import('@nestjs/observe');
        const { ObserveModule, ObserveInstrument } = createObserveModule();
        const observed = instrumentName === 'Observe';
        const options: KeplarsWebhookOptions =
          mode === 'inline'
            ? { secret: SECRET }
            : {
                secret: SECRET,
                queue: { redis: REDIS_URL, prefix },
                deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
              };

        @Module({
          imports: [
            // As `nest new` (CLI 12) writes it, placeholders included.
            ...(observed
              ? [
                  ObserveModule.forRoot({
                    appKey: process.env.OBSERVE_APP_KEY ?? 'YOUR_APP_KEY',
                    appSecret: process.env.OBSERVE_APP_SECRET ?? 'YOUR_APP_SECRET',
                    serviceId: 'keplars-observe-test',
                  }),
                ]
              : []),
            KeplarsWebhookModule.forRoot(options),
          ],
          providers: [EmailActivityService],
        })
        class AppModule {}

        logs = new CapturedLogs();
        const appOptions = { instrument: observed ? ObserveInstrument : createProxyingInstrument(), rawBody: true, logger: logs, abortOnError: false };
        app = adapter === 'fastify' ? await NestFactory.create(AppModule, new FastifyAdapter(), appOptions) : await NestFactory.create(AppModule, appOptions);
        await app.init();
        if (mode === 'queue') redis = connectRedis();
      });

      afterAll(async () => {
        await app?.close();
        if (redis) {
          await deleteKeys(redis, prefix);
          await redis.quit();
        }
      });

      it('runs with its providers, controller and guard proxied', () => {
        // Without this the suite would prove nothing: the instrument must really have wrapped them.
        expect(types.isProxy(app.get(EmailActivityService))).toBe(true);
        expect(types.isProxy(app.get(KeplarsHealthIndicator))).toBe(true);
        expect(logs.lines.filter((line) => line.context === 'KeplarsWebhook' && line.message.startsWith('Handler EmailActivityService.onOpened takes email.opened'))).toHaveLength(1);
      });

      it('handles a signed event once, and answers its redelivery as a duplicate', async () => {
        const handlers = app.get(EmailActivityService);
        const payload = buildKeplarsPayload('email.opened');
        const id = String(payload.id);

        const first = await postKeplarsEvent(app, payload, { secret: SECRET });
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ received: true });
        await waitFor(() => handlers.opened.get(id) === 1, 'the handler to run');

        const again = await postKeplarsEvent(app, payload, { secret: SECRET });
        expect(again.status).toBe(200);
        expect(again.body).toEqual({ received: true, duplicate: true });
        await new Promise((resolve) => setTimeout(resolve, 100)); // a second run, were there one, would have started
        expect(handlers.opened.get(id)).toBe(1);
      });

      it('refuses an unsigned request with 401, running no handler', async () => {
        const response = await postKeplarsEvent(app, buildKeplarsPayload('email.opened'), { secret: SECRET, signature: false });
        expect(response.status).toBe(401);
      });

      it('reports health, and in queue mode lists the (empty) dead letters', async () => {
        const health = await app.get(KeplarsHealthIndicator).isHealthy();
        expect(health.keplars.status).toBe('up');
        if (mode === 'queue') expect(await app.get(KeplarsDeadLetters).list()).toEqual([]);
      });

      it('logs no error of its own and nothing that the instrument could not wrap', () => {
        const problems = logs.lines.filter(
          (line) => ((line.level === 'error' || line.level === 'fatal') && line.context !== 'ObserveAgentWorker') || line.context === 'InstrumentLogger',
        );
        expect(problems).toEqual([]);
      });
    },
  );
}
