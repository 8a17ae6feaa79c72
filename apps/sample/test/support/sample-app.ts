import { PGlite } from '@electric-sql/pglite';
import { afterAll, jest } from '@jest/globals';
import type { INestApplication, Provider } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { CapturedLogs } from '../../../../test/support/captured-logs.js';
import { dropSchemas, POSTGRES_URL, uniqueSchema } from '../../../../test/support/postgres.js';
import { AppModule } from '../../src/app.module.js';
import { DATABASE } from '../../src/database/database.module.js';

export const TEST_SECRET = 'whsec_sample_e2e_3b9d2f';

/** The databases the sample runs on: the embedded default, and a Postgres server (DATABASE_URL). */
export type SampleDatabase = 'PGlite' | 'Postgres';
export const DATABASES: readonly SampleDatabase[] = ['PGlite', 'Postgres'];
/**
 * Where the suites of the sample's endpoints (emails, suppressions, the page) run: Postgres, whose
 * starts take milliseconds. The ledger's SQL is the same on PGlite, whose every start costs seconds;
 * PGlite is covered by the configuration and exactly-once suites. SAMPLE_DATABASES=PGlite,Postgres runs both.
 */
export const LOGIC_DATABASES: readonly SampleDatabase[] = (process.env['SAMPLE_DATABASES']?.split(',') as SampleDatabase[] | undefined) ?? ['Postgres'];

/** The environment that puts the sample on `database`: Postgres is this machine's shared server. */
export const onDatabase = (database: SampleDatabase): Record<string, string> => (database === 'Postgres' ? { DATABASE_URL: POSTGRES_URL } : {});

/**
 * The environment of a database that outlives one app, so that a second start finds what the first
 * wrote: a Postgres schema, or a PGlite data folder that does not exist yet (the app creates it).
 */
export const keptDatabase = (database: SampleDatabase): Record<string, string> =>
  database === 'Postgres' ? { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: newSchema() } : { PGLITE_DATA_DIR: join(dataDirs, 'kept', `${Math.random().toString(36).slice(2)}`, 'pglite') };

// The first start of an embedded database runs initdb, which takes seconds on a busy machine.
jest.setTimeout(60_000);

/**
 * Boots the sample's real AppModule as main.ts does (`rawBody: true`), configured through the
 * environment like the app itself: a database of its own, {@link TEST_SECRET} and inline mode
 * (REDIS_URL empty, which also wins over a REDIS_URL in a developer's apps/sample/.env) unless `env`
 * says otherwise (`undefined` unsets a variable). Jest gives each test file its own `process.env`.
 * On Express, as main.ts runs it, unless `adapter` says Fastify.
 *
 * The database is new at each start: on Postgres (`env` sets DATABASE_URL) a schema no other start
 * uses, on PGlite a data folder of its own, unless `env` names them. Both go when the test file ends.
 */
export async function startSampleApp(
  env: Record<string, string | undefined> = {},
  logs = new CapturedLogs(),
  providers: Provider[] = [],
  adapter: 'express' | 'fastify' = 'express',
): Promise<INestApplication> {
  // Inline unless a test turns queue mode on (DATABASE_URL alone would put the queue on Postgres).
  const settings: Record<string, string | undefined> = { DATABASE_URL: '', KEPLARS_WEBHOOK_SECRET: TEST_SECRET, NODE_ENV: 'test', REDIS_URL: '', QUEUE_MODE: env['REDIS_URL'] ? '' : 'inline', ...env };
  if (settings.DATABASE_URL && !('DATABASE_SCHEMA' in env)) settings.DATABASE_SCHEMA = newSchema();
  if (!settings.DATABASE_URL && !('PGLITE_DATA_DIR' in env)) settings.PGLITE_DATA_DIR = await newDataDir();
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  // `providers`: what a test adds beside the sample, e.g. a handler of its own.
  const moduleRef = await Test.createTestingModule({ imports: [AppModule], providers }).setLogger(logs).compile();
  const options = { rawBody: true, logger: logs };
  const app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), options) : moduleRef.createNestApplication(options);
  try {
    await app.init();
    // Fastify answers supertest's requests (made on its server, before any listen()) once it is ready.
    if (adapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  } catch (error) {
    await app.close(); // what was opened before the failure (Redis, the queue's worker), so Jest can exit
    throw error;
  }
  return app;
}

/** `GET path` on the app: status and JSON body. */
export async function get(app: INestApplication, path: string): Promise<{ status: number; body: any }> {
  const response = await request(app.getHttpServer()).get(path);
  return { status: response.status, body: response.body };
}

/** Every item of a list endpoint (`{ items, next }`), following `next` page after page of `limit`. */
export async function getAll(app: INestApplication, path: string, limit = 500): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await get(app, `${path}?limit=${limit}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`);
    items.push(...body.items);
    cursor = body.next;
  } while (cursor !== undefined);
  return items;
}

/** The app's database (PGlite or a pg Pool), for a test that reads or changes it beside the app. */
export const databaseOf = (app: INestApplication): { query<Row = any>(text: string, params?: unknown[]): Promise<{ rows: Row[] }> } => app.get(DATABASE);

const schemas: string[] = [];
const dataDirs = mkdtempSync(join(tmpdir(), 'keplars-sample-pglite-'));
afterAll(async () => {
  rmSync(dataDirs, { recursive: true, force: true });
  if (schemas.length > 0) await dropSchemas(...schemas);
});

function newSchema(): string {
  const schema = uniqueSchema('sample_test');
  schemas.push(schema);
  return schema;
}

let template: Promise<string> | undefined;

/**
 * A new PGlite data folder: a copy of one made once per test file, so each start opens an existing
 * database (about a second) instead of running initdb again (several seconds).
 */
async function newDataDir(): Promise<string> {
  template ??= (async () => {
    const folder = join(dataDirs, 'template');
    await (await PGlite.create(folder)).close();
    return folder;
  })();
  const folder = join(dataDirs, `app-${schemas.length}-${Math.random().toString(36).slice(2)}`);
  cpSync(await template, folder, { recursive: true });
  return folder;
}
