import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Injection token of the app's SQLite connection: `@Inject(DATABASE) db: Database.Database`. */
export const DATABASE = Symbol('DATABASE');

/** Relative to where the app is started (`npm start` runs at the repository root). */
const DEFAULT_DATABASE_PATH = 'apps/sample/data/emails.sqlite';

/**
 * One embedded SQLite database for the whole app, at DATABASE_PATH (`:memory:` keeps nothing, as
 * the tests do). Each feature creates its own tables.
 */
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => openDatabase(config.get<string>('DATABASE_PATH') || DEFAULT_DATABASE_PATH),
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Database.Database) {}

  onApplicationShutdown(): void {
    this.db.close();
  }
}

function openDatabase(path: string): Database.Database {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL'); // readers (GET /emails) never wait for the webhook's writes
    new Logger('Database').log(path === ':memory:' ? 'SQLite database in memory: nothing is kept after exit' : `SQLite database at ${path}`);
    return db;
  } catch (error) {
    throw new Error(`Cannot open the SQLite database at ${path} (${(error as Error).message}): check DATABASE_PATH and that its folder is writable.`);
  }
}
