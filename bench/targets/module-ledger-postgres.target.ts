import { Module } from '@nestjs/common';
import { KeplarsWebhookModule } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET, POSTGRES_SCHEMA_ENV, POSTGRES_URL_ENV } from '../bench-config.js';
import { DeliveredHandler } from './module.target.js';

// `module-postgres` with the email ledger on (`ledger: true`, SPEC §8): every event is also recorded
// on its email (status, counters, timeline; bounces and complaints on the suppression list), in the
// transaction of its handled mark. Its tables are in a schema of its own (the run's schema + `_ledger`),
// so `module-postgres`'s tables grow the same whether this target runs or not. The benchmark sends it
// the lifecycles of many emails (SignedEventSource 'many'), not one email's `delivered` over and over.

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`module-ledger-postgres needs ${name} (the benchmark sets it)`);
  return value;
}

@Module({
  imports: [
    KeplarsWebhookModule.forRootAsync({
      useFactory: () => ({
        secret: BENCH_SECRET,
        deduplication: { store: { postgres: setting(POSTGRES_URL_ENV), schema: `${setting(POSTGRES_SCHEMA_ENV)}_ledger` } },
        ledger: true,
      }),
    }),
  ],
  providers: [DeliveredHandler],
})
export class ModuleLedgerPostgresAppModule {}
