import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';

/**
 * The shared PostgreSQL server of this machine (and of CI: `.ci/run` starts one if absent). Tests
 * write only in schemas of their own ({@link uniqueSchema}) and drop them afterwards.
 */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every table the Postgres store's migrations make in its schema (marks, and the email ledger's), by name. */
export const KEPLARS_TABLES = [
  'keplars_addresses',
  'keplars_email_events',
  'keplars_emails',
  'keplars_events',
  'keplars_handler_marks',
  'keplars_ledger_key',
  'keplars_migrations',
  'keplars_soft_bounces',
  'keplars_suppression_causes',
  'keplars_suppression_changes',
];

/** A schema name no other test (or run) uses: `<label>_<random>`, lower case. */
export function uniqueSchema(label: string): string {
  return `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
}

export function connectPostgres(url = POSTGRES_URL, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined); // a test that cuts connections expects idle ones to fail
  return pool;
}

/** Runs one query on a connection of its own (never a pool of the module's). */
export async function queryPostgres<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = [], url = POSTGRES_URL): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchemas(...schemas: string[]): Promise<void> {
  for (const schema of schemas) await queryPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export const dropSchema = (schema: string): Promise<void> => dropSchemas(schema);

/**
 * A TCP proxy in front of the shared PostgreSQL that a test can cut (every connection dropped, new
 * ones refused) and restore, so an outage is real without stopping the server others use.
 */
export class PostgresProxy {
  private up = true;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target = new URL(POSTGRES_URL)): Promise<PostgresProxy> {
    const proxy: PostgresProxy = new PostgresProxy(
      createServer((client) => {
        if (!proxy.up) return void client.destroy();
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          proxy.sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            proxy.sockets.delete(socket);
            (socket === client ? upstream : client).destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      }),
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The shared server's URL (same user and database), with the proxy's port. */
  get url(): string {
    const url = new URL(POSTGRES_URL);
    url.port = String((this.server.address() as { port: number }).port);
    return url.toString();
  }

  /** Drops every connection through the proxy and refuses new ones: the database is unreachable. */
  cut(): void {
    this.up = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  stop(): Promise<void> {
    return this.close();
  }
}
