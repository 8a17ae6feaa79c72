import { PGlite } from '@electric-sql/pglite';
import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { mkdirSync } from 'node:fs';
import pg from 'pg';

/** The app's database: a `pg` Pool on DATABASE_URL, or else PGlite (Postgres in this process). */
export type Database = pg.Pool | PGlite;

/** Relative to where the app is started (`npm start` runs at the repository root). */
const DEFAULT_PGLITE_DATA_DIR = 'apps/sample/data/pglite';
const DEFAULT_SCHEMA = 'sample';

/**
 * The schema that holds everything the sample keeps (the webhook module's marks, email ledger and
 * suppression list). One place to look, and one `DROP SCHEMA … CASCADE` to start over.
 */
export function databaseSchemaFrom(config: ConfigService): string {
  const schema = config.get<string>('DATABASE_SCHEMA')?.trim() || DEFAULT_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_SCHEMA must be a lower-case Postgres name (letters, digits, _), not ${JSON.stringify(schema)}: fix it in the environment or apps/sample/.env.`);
  }
  return schema;
}

/**
 * Opens the database the environment names, with the sample's schema created: a Postgres that cannot
 * be reached, or where the user may not create the schema, stops the start with what to check.
 */
export async function openDatabase(config: ConfigService): Promise<Database> {
  const schema = databaseSchemaFrom(config);
  const url = config.get<string>('DATABASE_URL')?.trim();
  return url ? openPostgres(url, schema) : openPGlite(config.get<string>('PGLITE_DATA_DIR')?.trim() || DEFAULT_PGLITE_DATA_DIR, schema);
}

async function openPostgres(url: string, schema: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  // An idle connection that drops emits 'error'; unheard, it would end the process. The pool reconnects.
  pool.on('error', (error) => new Logger('Database').error(`An idle Postgres connection failed (${error.message}); the pool opens a new one when needed.`));
  const where = `Postgres at ${withoutPassword(url)}`;
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    await pool.end();
    throw new Error(`Cannot use ${where} (${(error as Error).message}): check DATABASE_URL, that Postgres is running, and that the user may create schema "${schema}".`);
  }
  new Logger('Database').log(`${where}, schema "${schema}"`);
  return pool;
}

async function openPGlite(dataDir: string, schema: string): Promise<PGlite> {
  const started = Date.now();
  let db: PGlite | undefined;
  try {
    // A new folder is initialised first (initdb), which takes a few seconds; later opens take one.
    if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
    db = new PGlite(dataDir);
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    await db?.close().catch(() => undefined);
    throw new Error(`Cannot open the embedded database (PGlite) at ${dataDir} (${(error as Error).message}): check PGLITE_DATA_DIR and that its folder is writable, or set DATABASE_URL.`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const where = dataDir.startsWith('memory://') ? 'in memory: nothing is kept after exit' : `at ${dataDir}`;
  new Logger('Database').log(`Embedded Postgres (PGlite) ${where}, schema "${schema}", opened in ${seconds} s. Set DATABASE_URL to use your own Postgres.`);
  return db;
}

/** The URL as it may be logged. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL (not a valid URL)';
  }
}
