import { Module } from '@nestjs/common';
import { KeplarsWebhookModule } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, POSTGRES_SCHEMA_ENV, POSTGRES_URL_ENV } from '../bench-config.js';
import { DeliveredHandler } from './module.target.js';

// The receiving side of queue mode on Postgres (SPEC §4b), as a receiver-only app without Redis runs
// it: the signature checked, the delivery written to BullMQ's Postgres backend, answered once Postgres
// has committed it; the marks beside the queue (the default). No worker: `bench:queue --backend
// postgres` measures the workers.

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`module-queue-postgres needs ${name} (the benchmark sets it)`);
  return value;
}

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, queue: { postgres: setting(POSTGRES_URL_ENV), schema: `${setting(POSTGRES_SCHEMA_ENV)}_queue`, role: 'receive' } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleQueuePostgresAppModule {}
