import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL (as the tests use it), unless BENCH_POSTGRES_URL names another. */
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Where the Postgres targets keep their tables in one run: the machine's server (a benchmark cannot
 * start one of its own as root), in a schema of the run's own, dropped at the end.
 */
export function benchPostgres(): { readonly url: string; readonly schema: string; drop(): Promise<void> } {
  const url = process.env['BENCH_POSTGRES_URL'] ?? DEFAULT_URL;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  return {
    url,
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS ${schema}_queue CASCADE`); // module-queue-postgres's
        await client.query(`DROP SCHEMA IF EXISTS ${schema}_ledger CASCADE`); // module-ledger-postgres's
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
