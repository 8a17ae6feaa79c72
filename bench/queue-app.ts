// One process of `bench:queue`: `node queue-app.js <receive-and-process|receive|process>`, queue mode
// on the Redis at BENCH_REDIS_URL under the key prefix BENCH_QUEUE_PREFIX, or, when BENCH_REDIS_URL is a
// postgres:// URL, on that Postgres in schema BENCH_QUEUE_PREFIX (the marks beside it, by default). A role that receives serves
// HTTP on a free loopback port (Express); `process` is a worker without HTTP, as an app started with
// createApplicationContext. Prints `READY <port>` (0 for a worker), then `S <event id> <wall clock ms>`
// each time its no-op handler starts, so the benchmark can time POST -> handler start across processes.
import 'reflect-metadata';
import { Injectable, Module, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailDeliveredEvent, type KeplarsQueueRole } from '../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, QUEUE_PREFIX_ENV, REDIS_URL_ENV } from './bench-config.js';
import { wallClockMs } from './load/wall-clock.js';

const ROLES: readonly KeplarsQueueRole[] = ['receive-and-process', 'receive', 'process'];

@Injectable()
class NoOpHandler {
  @OnKeplarsEvent('email.delivered')
  onDelivered(event: EmailDeliveredEvent): void {
    process.stdout.write(`S ${event.id} ${wallClockMs().toFixed(3)}\n`);
  }
}

function appModule(role: KeplarsQueueRole, redis: string, prefix: string): DynamicModule {
  @Module({})
  class QueueBenchModule {}
  return {
    module: QueueBenchModule,
    imports: [
      KeplarsWebhookModule.forRoot({
        secret: BENCH_SECRET,
        ...(redis.startsWith('postgres')
          ? { queue: { postgres: redis, schema: prefix, role } }
          : { queue: { redis, role, prefix }, deduplication: { store: { redis, keyPrefix: `${prefix}:keplars:` } } }),
      }),
    ],
    providers: [NoOpHandler],
  };
}

const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

async function main(): Promise<void> {
  const role = process.argv[2] as KeplarsQueueRole;
  const redis = process.env[REDIS_URL_ENV];
  const prefix = process.env[QUEUE_PREFIX_ENV];
  if (!ROLES.includes(role) || !redis || !prefix) {
    throw new Error(`usage: ${REDIS_URL_ENV}=redis://… ${QUEUE_PREFIX_ENV}=… queue-app.js <${ROLES.join('|')}>`);
  }
  if (role === 'process') {
    const app = await NestFactory.createApplicationContext(appModule(role, redis, prefix), { logger: LOG_LEVELS });
    app.enableShutdownHooks(['SIGINT']);
    process.stdout.write('READY 0\n');
    return;
  }
  const app = await NestFactory.create(appModule(role, redis, prefix), { rawBody: true, logger: LOG_LEVELS });
  app.enableShutdownHooks(['SIGINT']);
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`READY ${(app.getHttpServer().address() as AddressInfo).port}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
