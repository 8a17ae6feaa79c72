import type { SqlConnection, SqlResult, SqlSession } from './sql-connection.js';

/** The part of a PGlite database (or of one of its transactions) the store uses. */
export interface KeplarsPGliteSession {
  /** Runs one statement. */
  query(text: string, params?: unknown[]): Promise<KeplarsPGliteResult>;
}

/** What PGlite answers. */
export interface KeplarsPGliteResult {
  /** The rows returned. */
  rows: unknown[];
  /** How many rows the statement touched. */
  affectedRows?: number;
}

/** The part of a `PGlite` instance the store uses; spelled out so the package's types need no PGlite. */
export interface KeplarsPGlite extends KeplarsPGliteSession {
  /** Runs `work` in one transaction, committed when it resolves. */
  transaction<T>(work: (transaction: KeplarsPGliteSession) => Promise<T>): Promise<T>;
  /** Closes the database (only one the store opened itself). */
  close(): Promise<void>;
  /** Present on PGlite (and used to tell it from a `pg` pool). */
  readonly waitReady: Promise<void>;
}

const resultOf = (result: KeplarsPGliteResult): SqlResult => ({
  rows: result.rows as Record<string, unknown>[],
  rowCount: result.affectedRows ?? result.rows.length,
});

const on = (session: KeplarsPGliteSession): SqlSession => ({
  query: async (text, params) => resultOf(await session.query(text, params as unknown[] | undefined)),
});

/**
 * Postgres compiled to WASM, inside this process (`@electric-sql/pglite`): durable marks with
 * nothing to install, for one instance. It has one connection, so its statements and transactions
 * take turns.
 */
export class PGliteConnection implements SqlConnection {
  readonly kind = 'pglite';

  constructor(
    private readonly db: KeplarsPGlite,
    readonly description: string,
    private readonly ownsDatabase: boolean,
  ) {}

  async query(text: string, params?: readonly unknown[]): Promise<SqlResult> {
    return resultOf(await this.db.query(text, params as unknown[] | undefined));
  }

  transaction<T>(work: (session: SqlSession, driverTransaction: unknown) => Promise<T>): Promise<T> {
    return this.db.transaction((transaction) => work(on(transaction), transaction));
  }

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.db.close();
  }
}
