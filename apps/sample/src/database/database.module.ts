import { PGlite } from '@electric-sql/pglite';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { openDatabase, type Database } from './open-database.js';

/** Injection token of the app's database: `@Inject(DATABASE) db: Database` (a `pg` Pool or PGlite). */
export const DATABASE = Symbol('DATABASE');

/**
 * One database for the whole app: Postgres at DATABASE_URL, or else the embedded PGlite in
 * PGLITE_DATA_DIR. The webhook module keeps its marks and its email ledger there (it creates its
 * tables); an app's own services would use it too.
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
