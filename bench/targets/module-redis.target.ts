import { Injectable, Module } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailDeliveredEvent } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, REDIS_URL_ENV } from '../bench-config.js';

// `module` with the Redis store, as every app with more than one instance runs it: the store gets its
// connection from a URL (the module's own ioredis client), default options otherwise.

@Injectable()
class DeliveredHandler {
  @OnKeplarsEvent('email.delivered')
  onDelivered(_event: EmailDeliveredEvent): void {}
}

/** Under valgrind (`bench:instructions`) the server runs ~50x slower than Redis answers: wait longer. */
const operationTimeoutMs = Number(process.env['BENCH_REDIS_OPERATION_TIMEOUT_MS'] ?? 2000);

function redisUrl(): string {
  const url = process.env[REDIS_URL_ENV];
  if (!url) throw new Error(`module-redis needs ${REDIS_URL_ENV} (the benchmark starts a Redis server and sets it)`);
  return url;
}

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, deduplication: { store: { redis: redisUrl(), keyPrefix: 'bench:', operationTimeoutMs } } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleRedisAppModule {}
