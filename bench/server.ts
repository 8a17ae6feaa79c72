// One server under test, in its own process: `node server.js <target> <adapter>`. It listens on a free
// loopback port and prints `READY <port>` once it accepts requests. With BENCH_CPU_PROFILE_DIR set,
// SIGUSR2 starts the CPU profiler (`PROFILING`) and the next SIGUSR2 writes the profile (`PROFILE <file>`),
// so a profile covers the measured load only, not the start-up or the warm-up.
import 'reflect-metadata';
import type { INestApplication, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADAPTERS, isAdapterName, isTargetName, runsTheModule, TARGETS, traitsOf, type AdapterName, type TargetName } from './bench-config.js';
import { BareAppModule } from './targets/bare.target.js';
import { HandwrittenAppModule } from './targets/handwritten.target.js';
import { HmacGuardAppModule } from './targets/hmac-guard.target.js';
import { ModuleQueueAppModule } from './targets/module-queue.target.js';
import { ModuleRedisAppModule } from './targets/module-redis.target.js';
import { ModulePostgresAppModule } from './targets/module-postgres.target.js';
import { ModuleLedgerPostgresAppModule } from './targets/module-ledger-postgres.target.js';
import { ModuleQueuePostgresAppModule } from './targets/module-queue-postgres.target.js';
import { ModuleAppModule } from './targets/module.target.js';
import { OctokitWebhooksAppModule } from './targets/octokit-webhooks.target.js';

const APP_MODULES: Record<TargetName, Type> = {
  bare: BareAppModule,
  'hmac-guard': HmacGuardAppModule,
  handwritten: HandwrittenAppModule,
  'octokit-webhooks': OctokitWebhooksAppModule,
  module: ModuleAppModule,
  'module-redis': ModuleRedisAppModule,
  'module-postgres': ModulePostgresAppModule,
  'module-ledger-postgres': ModuleLedgerPostgresAppModule,
  'module-queue-postgres': ModuleQueuePostgresAppModule,
  'module-queue': ModuleQueueAppModule,
  'module-otel-api': ModuleAppModule,
  'module-otel-sdk': ModuleAppModule,
};

/** What differs between the module's targets: whether `@opentelemetry/api` is there, and an SDK. */
async function prepareOpenTelemetry(target: TargetName): Promise<void> {
  if (!runsTheModule(target)) return;
  // Imported only here, so no other target's process loads OpenTelemetry.
  const openTelemetry = traitsOf(target).openTelemetry ?? 'api';
  if (openTelemetry === 'hidden') await (await import('./targets/hide-opentelemetry.js')).hideOpenTelemetryApi();
  if (openTelemetry === 'sdk') (await import('./targets/opentelemetry-sdk.js')).registerOpenTelemetrySdk();
}

// Every target logs the same: nothing per request, only what goes wrong.
const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

async function main(): Promise<void> {
  const [target = '', adapter = ''] = process.argv.slice(2);
  if (!isTargetName(target) || !isAdapterName(adapter)) {
    throw new Error(`usage: server.js <${TARGETS.join("|")}> <${ADAPTERS.join("|")}> (got ${target} ${adapter})`);
  }
  await prepareOpenTelemetry(target);
  const app = await createApp(APP_MODULES[target], adapter);
  // Exit (rather than die of the signal) so that `--cpu-prof` gets to write its profile.
  process.once('SIGINT', () => void app.close().finally(() => process.exit(0)));
  const profileDir = process.env['BENCH_CPU_PROFILE_DIR'];
  if (profileDir) profileOnSignal(profileDir, `${target}-${adapter}`);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.stdout.write(`READY ${port}\n`);
}

function createApp(appModule: Type, adapter: AdapterName): Promise<INestApplication> {
  const options = { rawBody: true, logger: LOG_LEVELS };
  return adapter === 'fastify'
    ? NestFactory.create(appModule, new FastifyAdapter(), options)
    : NestFactory.create(appModule, options);
}

function profileOnSignal(dir: string, name: string): void {
  const session = new Session();
  session.connect();
  let profiling = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!profiling) {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 100 }); // µs
        await session.post('Profiler.start');
        profiling = true;
        process.stdout.write('PROFILING\n');
        return;
      }
      const { profile } = await session.post('Profiler.stop');
      profiling = false;
      const file = join(dir, `${name}-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stdout.write(`PROFILE ${file}\n`);
    })();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
