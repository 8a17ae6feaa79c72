import { Module } from '@nestjs/common';
import { KeplarsWebhookModule } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET } from '../bench-config.js';
import { DeliveredHandler } from './module.target.js';
import { benchRedisUrl, operationTimeoutMs } from './redis-target.js';

// The receiving side of queue mode (SPEC §4a), as a receiver-only app runs it: the signature checked,
// the delivery written to the BullMQ queue on Redis (from a URL), answered once Redis has it. No
// worker here, so what is measured is the answer Keplars waits for; `bench:queue` measures the workers.

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, queue: { redis: benchRedisUrl('module-queue'), role: 'receive', prefix: 'bench', operationTimeoutMs } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleQueueAppModule {}
