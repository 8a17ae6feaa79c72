import { randomBytes } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import pg from 'pg';

/**
 * The shared PostgreSQL server of this machine (and of CI: `.ci/run` starts one if absent). Tests
 * write only in schemas of their own ({@link uniqueSchema}) and drop them afterwards.
 */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other test (or run) uses: `label_<random>`. */
export function uniqueSchema(label: string): string {
  return `${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
}

export function connectPostgres(url = POSTGRES_URL, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined); // a test that cuts connections expects idle ones to fail
  return pool;
}

export async function dropSchemas(...schemas: string[]): Promise<void> {
  const pool = connectPostgres(POSTGRES_URL, 1);
  try {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

/**
 * A TCP proxy in front of the shared server that a test can cut and restore: "Postgres is down"
 * without stopping the server other tests use. Cutting closes every connection and refuses new ones.
 */
export class PostgresProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private constructor(private port: number) {}

  static async start(): Promise<PostgresProxy> {
    const proxy = new PostgresProxy(0);
    await proxy.open();
    return proxy;
  }

  /** The connection string through the proxy (same user and database as {@link POSTGRES_URL}). */
  get url(): string {
    const url = new URL(POSTGRES_URL);
    url.host = `127.0.0.1:${this.port}`;
    return url.toString();
  }

  /** Closes every connection through the proxy and stops listening: the database is unreachable. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    await this.open();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private async open(): Promise<void> {
    const target = new URL(POSTGRES_URL);
    const server = createServer((client) => {
      const upstream = new Socket();
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(Number(target.port || 5432), target.hostname, () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
}
