import type { SqlConnection, SqlResult, SqlSession } from './sql-connection.js';

/** The part of a TypeORM `QueryRunner` the store uses. */
export interface KeplarsTypeOrmQueryRunner {
  query(text: string, params: unknown[] | undefined, structured: true): Promise<{ records: unknown[]; affected?: number }>;
  release(): Promise<void>;
}

/** The part of a TypeORM `EntityManager` the store uses (its query runner, inside a transaction). */
export interface KeplarsTypeOrmEntityManager {
  readonly queryRunner?: KeplarsTypeOrmQueryRunner;
}

/**
 * The part of a TypeORM `DataSource` the store uses; spelled out so that the package's types need
 * no TypeORM. Its `options.type` must be `'postgres'`.
 */
export interface KeplarsTypeOrmDataSource {
  readonly options: { readonly type: string };
  readonly isInitialized: boolean;
  createQueryRunner(): KeplarsTypeOrmQueryRunner;
  transaction<T>(work: (manager: KeplarsTypeOrmEntityManager) => Promise<T>): Promise<T>;
}

const resultOf = (result: { records: unknown[]; affected?: number }): SqlResult => ({
  rows: result.records as Record<string, unknown>[],
  rowCount: result.affected ?? result.records.length,
});

/**
 * Postgres through the app's TypeORM `DataSource`: the marks share the pool of the app's entities,
 * and a transactional handler gets an `EntityManager` on the transaction that writes its mark.
 */
export class TypeOrmConnection implements SqlConnection {
  readonly kind = 'typeorm';

  constructor(
    private readonly dataSource: KeplarsTypeOrmDataSource,
    readonly description: string,
  ) {}

  async query(text: string, params?: readonly unknown[]): Promise<SqlResult> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return resultOf(await runner.query(text, params as unknown[] | undefined, true));
    } finally {
      await runner.release();
    }
  }

  transaction<T>(work: (session: SqlSession, driverTransaction: unknown) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => {
      const runner = manager.queryRunner!;
      const session: SqlSession = { query: async (text, params) => resultOf(await runner.query(text, params as unknown[] | undefined, true)) };
      return work(session, manager);
    });
  }

  async close(): Promise<void> {
    // The DataSource is the app's: TypeORM's module closes it.
  }
}
