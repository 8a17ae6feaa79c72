import type { SqlConnection, SqlResult, SqlSession } from './sql-connection.js';

/**
 * The part of a `pg` `Pool` the store uses. Any `Pool` fits; it is spelled out here so that the
 * package's types do not require `pg`'s.
 */
export interface KeplarsPgPool {
  /** Runs one statement on a client of the pool. */
  query(config: KeplarsPgQuery): Promise<KeplarsPgResult>;
  /** A client of its own, for a transaction. */
  connect(): Promise<KeplarsPgClient>;
  /** Closes the pool (only one the store opened itself). */
  end(): Promise<void>;
}

/** A statement as `pg` takes it. */
export interface KeplarsPgQuery {
  /** The SQL, with `$1…` parameters. */
  text: string;
  /** The parameters' values. */
  values?: readonly unknown[];
  /** Prepares the statement once per connection under this name. */
  name?: string;
}

/** What `pg` answers. */
export interface KeplarsPgResult {
  /** The rows returned. */
  rows: Record<string, unknown>[];
  /** How many rows the statement touched. */
  rowCount: number | null;
}

/** The part of a `pg` `PoolClient` the store uses. */
export interface KeplarsPgClient {
  /** Runs one statement in the client's transaction. */
  query(config: KeplarsPgQuery): Promise<KeplarsPgResult>;
  /** Runs BEGIN, COMMIT or ROLLBACK. */
  query(text: string): Promise<unknown>;
  /** Back to the pool; with an error, the connection is destroyed instead (it may be broken). */
  release(error?: Error | boolean): void;
}

const resultOf = (result: KeplarsPgResult): SqlResult => ({ rows: result.rows, rowCount: result.rowCount ?? 0 });

/** A session on one client of the pool (a transaction's). */
const onClient = (client: KeplarsPgClient): SqlSession => ({
  query: async (text, params, name) => resultOf(await client.query({ text, values: params, name })),
});

/** Postgres through a `pg` pool: the app's own, or one the store opened from a connection string. */
export class PgPoolConnection implements SqlConnection {
  readonly kind = 'pg';

  constructor(
    private readonly pool: KeplarsPgPool,
    readonly description: string,
    private readonly ownsPool: boolean,
  ) {}

  async query(text: string, params?: readonly unknown[], name?: string): Promise<SqlResult> {
    return resultOf(await this.pool.query({ text, values: params, name }));
  }

  async transaction<T>(work: (session: SqlSession, driverTransaction: unknown) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(onClient(client), client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is not given to anyone else.
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => (broken = rollbackFailed));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
