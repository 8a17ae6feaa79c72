import { Module } from '@nestjs/common';
import { KeplarsWebhookModule } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET } from '../bench-config.js';
import { DeliveredHandler } from './module.target.js';
import { benchRedisUrl, operationTimeoutMs } from './redis-target.js';

// `module` with the Redis store, as every app with more than one instance runs it: the store gets its
// connection from a URL (the module's own ioredis client), default options otherwise.

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, deduplication: { store: { redis: benchRedisUrl('module-redis'), keyPrefix: 'bench:', operationTimeoutMs } } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleRedisAppModule {}
