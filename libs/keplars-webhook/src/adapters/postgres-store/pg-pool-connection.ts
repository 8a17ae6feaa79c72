import type { SqlConnection, SqlResult, SqlSession } from './sql-connection.js';

/**
 * The part of a `pg` `Pool` the store uses. Any `Pool` fits; it is spelled out here so that the
 * package's types do not require `pg`'s.
 */
export interface KeplarsPgPool {
  query(config: { text: string; values?: readonly unknown[]; name?: string }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  connect(): Promise<KeplarsPgClient>;
  end(): Promise<void>;
}

/** The part of a `pg` `PoolClient` the store uses. */
export interface KeplarsPgClient {
  query(config: { text: string; values?: readonly unknown[]; name?: string }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  query(text: string): Promise<unknown>;
  /** Back to the pool; with an error, the connection is destroyed instead (it may be broken). */
  release(error?: Error | boolean): void;
}

const resultOf = (result: { rows: Record<string, unknown>[]; rowCount: number | null }): SqlResult => ({ rows: result.rows, rowCount: result.rowCount ?? 0 });

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
