import { Module } from '@nestjs/common';
import { KeplarsWebhookModule } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, POSTGRES_SCHEMA_ENV, POSTGRES_URL_ENV } from '../bench-config.js';
import { DeliveredHandler } from './module.target.js';

// `module` with the Postgres store, as an app without Redis runs it on several instances: the store
// opens its own pool from a URL, default options otherwise (migrations at startup, in the run's schema).

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`module-postgres needs ${name} (the benchmark sets it)`);
  return value;
}

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({ secret: BENCH_SECRET, deduplication: { store: { postgres: setting(POSTGRES_URL_ENV), schema: setting(POSTGRES_SCHEMA_ENV) } } }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModulePostgresAppModule {}
