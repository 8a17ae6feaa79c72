import { Injectable, Module } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailDeliveredEvent } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, REDIS_URL_ENV } from '../bench-config.js';

// The receiving side of queue mode (SPEC §4a), as a receiver-only app runs it: the signature checked,
// the delivery written to the BullMQ queue on Redis (from a URL), answered once Redis has it. No
// worker here, so what is measured is the answer Keplars waits for; `bench:queue` measures the workers.

@Injectable()
class DeliveredHandler {
  @OnKeplarsEvent('email.delivered')
  onDelivered(_event: EmailDeliveredEvent): void {}
}

// Under valgrind (`bench:instructions`) Redis answers are ~50x slower to arrive: the default 2 s would
// answer 503 to requests that are merely slow.
const operationTimeoutMs = Number(process.env['BENCH_REDIS_OPERATION_TIMEOUT_MS'] ?? 2000);

function redisUrl(): string {
  const url = process.env[REDIS_URL_ENV];
  if (!url) throw new Error(`module-queue needs ${REDIS_URL_ENV} (the benchmark starts a Redis server and sets it)`);
  return url;
}

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, queue: { redis: redisUrl(), role: 'receive', prefix: 'bench', operationTimeoutMs } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleQueueAppModule {}
