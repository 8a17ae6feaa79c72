import { connectPostgresStore } from '../adapters/postgres-store/connect-postgres-store.js';
import { DEFAULT_POSTGRES_SCHEMA, isPlainIdentifier } from '../adapters/postgres-store/postgres-schema.js';
import { LATEST_VERSION } from '../adapters/postgres-store/postgres-migrations.js';
import { KeplarsConfigurationError } from '../core/support/configuration-error.js';
import { redactedUrl } from '../core/support/redacted-url.js';

export const MIGRATE_USAGE = `Usage: keplars-webhook migrate [--database-url <url>] [--schema <name>]

Creates or upgrades the Postgres store's tables (deduplication.store: { postgres }) to this package's
version (${LATEST_VERSION}), under an advisory lock, then exits. For deployments that run migrations
as their own step and start the app with deduplication.store.migrations: 'manual'.

Options:
  --database-url <url>   postgres://user:password@host:5432/database (default: $DATABASE_URL)
  --schema <name>        the schema of the store's tables (default: ${DEFAULT_POSTGRES_SCHEMA})
  -h, --help             this help

Exit codes: 0 done (or nothing to do), 1 the database could not be migrated, 2 wrong usage.`;

export const MIGRATE_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** `keplars-webhook migrate`: brings the Postgres store's tables to this package's version. Returns the exit code. */
export async function runMigrate(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, output: Output): Promise<number> {
  let databaseUrl = env['DATABASE_URL'];
  let schema = DEFAULT_POSTGRES_SCHEMA;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      output.out(MIGRATE_USAGE);
      return MIGRATE_EXIT.ok;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = inline ?? argv[++i];
    if ((flag === '--database-url' || flag === '--schema') && (value === undefined || value.startsWith('--'))) {
      output.err(`${flag} needs a value.\n${MIGRATE_USAGE}`);
      return MIGRATE_EXIT.usage;
    }
    if (flag === '--database-url') databaseUrl = value;
    else if (flag === '--schema') schema = value!;
    else {
      output.err(`Unknown option "${arg}".\n${MIGRATE_USAGE}`);
      return MIGRATE_EXIT.usage;
    }
  }
  if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    output.err(`${databaseUrl ? `"${redactedUrl(databaseUrl)}" is not a postgres:// URL` : 'No database given'}: pass --database-url postgres://user:password@host:5432/database, or set DATABASE_URL.`);
    return MIGRATE_EXIT.usage;
  }
  if (!isPlainIdentifier(schema)) {
    output.err(`--schema must be a lower-case Postgres name (letters, digits, _), such as ${DEFAULT_POSTGRES_SCHEMA} (got "${schema}").`);
    return MIGRATE_EXIT.usage;
  }
  const lines: string[] = [];
  try {
    const store = await connectPostgresStore(
      { postgres: databaseUrl },
      { schema, migrations: 'startup', operationTimeoutMs: 10_000, pruneIntervalMs: 0 },
      { log: (line) => lines.push(line), warn: (line) => output.err(line), error: (line) => output.err(line) },
    );
    await store.close();
  } catch (error) {
    const message = error instanceof KeplarsConfigurationError ? error.problems.join('\n') : (error as Error).message;
    output.err(`Could not migrate: ${message}`);
    return MIGRATE_EXIT.failed;
  }
  output.out(lines.length > 0 ? lines.join('\n') : `${redactedUrl(databaseUrl)}: the keplars-webhook tables in schema "${schema}" are already at version ${LATEST_VERSION}.`);
  return MIGRATE_EXIT.ok;
}
