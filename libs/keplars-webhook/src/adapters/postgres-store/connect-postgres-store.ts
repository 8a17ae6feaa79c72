import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { redactedUrl } from '../../core/support/redacted-url.js';
import type { KeplarsLogger } from '../../core/ports/log.js';
import type { SqlConnection } from './sql-connection.js';
import { PgPoolConnection, type KeplarsPgPool } from './pg-pool-connection.js';
import { PGliteConnection, type KeplarsPGlite } from './pglite-connection.js';
import { TypeOrmConnection, type KeplarsTypeOrmDataSource } from './typeorm-connection.js';
import { PostgresIdempotencyStore } from './postgres-idempotency.store.js';
import { checkSchema, LATEST_VERSION, migrate, PostgresSchemaError } from './postgres-migrations.js';
import { postgresTables } from './postgres-schema.js';

/** Where the store's tables are: a connection string, the app's `pg` pool or TypeORM `DataSource`, or PGlite. */
export type PostgresTarget =
  | { readonly postgres: string | KeplarsPgPool | KeplarsTypeOrmDataSource }
  | { readonly pglite: string | KeplarsPGlite };

/** Settings the module resolved from `deduplication.store`. */
export interface PostgresStoreSettings {
  readonly schema: string;
  /** `'startup'`: migrate under an advisory lock at startup; `'manual'`: check, and refuse to start if behind. */
  readonly migrations: 'startup' | 'manual';
  readonly operationTimeoutMs: number;
  readonly pruneIntervalMs: number;
}

type StoreLogger = Pick<KeplarsLogger, 'log' | 'warn' | 'error'>;

/** Whether a value is a PGlite instance (it alone has `waitReady` and `exec`). */
export const isPGlite = (value: object): value is KeplarsPGlite => 'waitReady' in value && typeof (value as { exec?: unknown }).exec === 'function';
/** Whether a value is a TypeORM `DataSource`. */
export const isTypeOrmDataSource = (value: object): value is KeplarsTypeOrmDataSource =>
  typeof (value as { createQueryRunner?: unknown }).createQueryRunner === 'function' && typeof (value as { options?: unknown }).options === 'object';

/**
 * Opens the store on the target the options name, brings its tables to this package's version (or
 * checks them), and refuses to start, with the fix in the message, on a database it cannot use.
 */
export async function connectPostgresStore(target: PostgresTarget, settings: PostgresStoreSettings, logger: StoreLogger): Promise<PostgresIdempotencyStore> {
  const connection = await openConnection(target, settings, logger);
  const tables = postgresTables(settings.schema);
  try {
    if (settings.migrations === 'startup') {
      const applied = await migrate(connection, tables);
      if (applied.length > 0) logger.log(`${connection.description}: migrated the keplars-webhook tables in schema "${tables.schema}" to version ${LATEST_VERSION}.`);
    } else {
      await checkSchema(connection, tables, connection.description);
    }
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw new KeplarsConfigurationError([startupProblem(connection.description, error)]);
  }
  return new PostgresIdempotencyStore(connection, {
    schema: settings.schema,
    operationTimeoutMs: settings.operationTimeoutMs,
    pruneIntervalMs: settings.pruneIntervalMs,
    logger,
  });
}

async function openConnection(target: PostgresTarget, settings: PostgresStoreSettings, logger: StoreLogger): Promise<SqlConnection> {
  if ('pglite' in target) {
    if (typeof target.pglite !== 'string') return new PGliteConnection(target.pglite, 'PGlite (your instance)', false);
    return new PGliteConnection(await openPGlite(target.pglite, logger), `PGlite at ${target.pglite}`, true);
  }
  const { postgres } = target;
  if (typeof postgres === 'string') {
    const description = `Postgres at ${redactedUrl(postgres)}`;
    return new PgPoolConnection(await openPool(postgres, description, settings, logger), description, true);
  }
  if (isTypeOrmDataSource(postgres)) {
    if (postgres.options.type !== 'postgres') {
      throw new KeplarsConfigurationError([
        `deduplication.store.postgres is a TypeORM DataSource of type "${postgres.options.type}"; the store needs one of type "postgres" (the marks are Postgres tables).`,
      ]);
    }
    return new TypeOrmConnection(postgres, 'Postgres (your TypeORM DataSource)');
  }
  return new PgPoolConnection(postgres, 'Postgres (your pg pool)', false);
}

async function openPool(connectionString: string, description: string, settings: PostgresStoreSettings, logger: StoreLogger): Promise<KeplarsPgPool> {
  let Pool: typeof import('pg').Pool;
  try {
    // pg is CommonJS: under ESM its exports arrive as the default export.
    const loaded = await import('pg');
    ({ Pool } = ((loaded as { default?: unknown }).default ?? loaded) as typeof import('pg'));
  } catch {
    throw new KeplarsConfigurationError(['deduplication.store.postgres needs the "pg" package: npm install pg']);
  }
  const pool = new Pool({ connectionString, connectionTimeoutMillis: settings.operationTimeoutMs, max: 10 });
  // An idle connection that drops emits 'error' on the pool; unheard, it would end the process.
  pool.on('error', (error: Error) => logger.error(`${description}: an idle connection failed (${error.message}); the pool opens a new one when needed.`));
  return pool as unknown as KeplarsPgPool;
}

async function openPGlite(dataDir: string, logger: StoreLogger): Promise<KeplarsPGlite> {
  let PGlite: typeof import('@electric-sql/pglite').PGlite;
  try {
    ({ PGlite } = await import('@electric-sql/pglite'));
  } catch {
    throw new KeplarsConfigurationError(['deduplication.store.pglite needs the "@electric-sql/pglite" package: npm install @electric-sql/pglite']);
  }
  const started = Date.now();
  const db = new PGlite(dataDir);
  await db.waitReady;
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 2) logger.log(`PGlite at ${dataDir} opened in ${seconds.toFixed(1)} s (a new data folder runs initdb first; later opens are faster).`);
  return db as unknown as KeplarsPGlite;
}

/** What to tell the person starting the app when the database cannot be used, with the fix. */
function startupProblem(where: string, error: unknown): string {
  if (error instanceof PostgresSchemaError) return `${where}: ${error.message}`;
  const { code, message } = error as { code?: string; message?: string };
  const said = message ?? String(error);
  switch (code) {
    case '28P01':
    case '28000':
      return `${where} refused the credentials (${said}). Check the user and password in the connection string (deduplication.store.postgres).`;
    case '3D000':
      return `${where}: ${said}. Create the database (createdb <name>) or point the connection string at one that exists.`;
    case '42501':
      return `${where}: ${said}. The user may not create the store's tables: grant it CREATE on the database, or run the migrations as an owner (npx keplars-webhook migrate --database-url <url>) and set deduplication.store.migrations to 'manual'.`;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      return `${where} could not be reached (${said}). Check that Postgres is running and that the host and port in the connection string are right.`;
    default:
      return `${where} could not be used (${said}).`;
  }
}
