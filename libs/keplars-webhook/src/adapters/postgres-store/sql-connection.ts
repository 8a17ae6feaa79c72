import type { KeplarsTransactionKind } from '../../core/0-event/keplars-event-handler.js';

/** What a statement gave back: its rows, and how many rows it touched. */
export interface SqlResult {
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount: number;
}

/** Somewhere statements run: the whole database, or one open transaction. */
export interface SqlSession {
  /**
   * Runs one statement with `$1…` parameters. `name` lets a driver that can prepare it do so once
   * per connection (the store's hot statements are always the same text).
   */
  query(text: string, params?: readonly unknown[], name?: string): Promise<SqlResult>;
}

/**
 * The one thing the Postgres store needs of a database: statements, and transactions. Three ways to
 * reach Postgres fit it (a `pg` pool, a TypeORM `DataSource`, PGlite in process), so the store's SQL
 * is written once.
 */
export interface SqlConnection extends SqlSession {
  /** Which driver object a transactional handler gets from {@link transaction}. */
  readonly kind: KeplarsTransactionKind;
  /** How log lines and errors name this database (never with its password). */
  readonly description: string;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (and the
   * error rethrown). `work` gets a session on the transaction, and the driver's own object for it
   * (a `PoolClient`, an `EntityManager`, a PGlite `Transaction`), which handlers are given.
   */
  transaction<T>(work: (session: SqlSession, driverTransaction: unknown) => Promise<T>): Promise<T>;
  /** Releases what the store opened itself (its own pool or PGlite); a connection of the app's is left open. */
  close(): Promise<void>;
}
