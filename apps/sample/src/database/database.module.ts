import { PGlite } from '@electric-sql/pglite';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { openDatabase, type Database } from './open-database.js';

/**
 * Injection token of the app's database: `@Inject(DATABASE) db: Database` (a `pg` Pool or PGlite),
 * or `@Inject(DATABASE) sql: Sql` for a service that only runs queries.
 */
export const DATABASE = Symbol('DATABASE');

/**
 * One database for the whole app, shared by the sample's services and the webhook module's
 * deduplication store: Postgres at DATABASE_URL, or else the embedded PGlite in PGLITE_DATA_DIR.
 * Each feature creates its own tables.
 */
@Module({
  providers: [{ provide: DATABASE, inject: [ConfigService], useFactory: openDatabase }],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async onApplicationShutdown(): Promise<void> {
    // A Pool ends its connections; PGlite flushes its data folder.
    if (this.db instanceof PGlite) await this.db.close();
    else await this.db.end();
  }
}
