import type { SqlConnection, SqlResult, SqlSession } from './sql-connection.js';

/** The part of a TypeORM `QueryRunner` the store uses. */
export interface KeplarsTypeOrmQueryRunner {
  /** Runs one statement, answering TypeORM's structured result. */
  query(text: string, params: unknown[] | undefined, structured: true): Promise<KeplarsTypeOrmResult>;
  /** Gives its connection back to the pool. */
  release(): Promise<void>;
}

/** TypeORM's structured result of a statement. */
export interface KeplarsTypeOrmResult {
  /** The rows returned. */
  records: unknown[];
  /** How many rows the statement touched. */
  affected?: number;
}

/** The part of a TypeORM `EntityManager` the store uses (its query runner, inside a transaction). */
export interface KeplarsTypeOrmEntityManager {
  /** The query runner of the transaction. */
  readonly queryRunner?: KeplarsTypeOrmQueryRunner;
}

/**
 * The part of a TypeORM `DataSource` the store uses; spelled out so that the package's types need
 * no TypeORM. Its `options.type` must be `'postgres'`.
 */
export interface KeplarsTypeOrmDataSource {
  /** Its options; `type` must be `'postgres'`. */
  readonly options: KeplarsTypeOrmOptions;
  /** Whether TypeORM has connected it. */
  readonly isInitialized: boolean;
  /** A query runner on a connection of its pool. */
  createQueryRunner(): KeplarsTypeOrmQueryRunner;
  /** Runs `work` in one transaction, with an `EntityManager` on it. */
  transaction<T>(work: (manager: KeplarsTypeOrmEntityManager) => Promise<T>): Promise<T>;
}

/** The part of a `DataSource`'s options the store reads. */
export interface KeplarsTypeOrmOptions {
  /** The database type: the store takes `'postgres'`. */
  readonly type: string;
}

const resultOf = (result: KeplarsTypeOrmResult): SqlResult => ({
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
