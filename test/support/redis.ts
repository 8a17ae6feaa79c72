import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { KeplarsDeduplicationOptions } from 'nestjs-keplars-webhook';
import { dropSchemas, POSTGRES_URL, uniqueSchema } from './postgres.js';

/** The shared Redis server of this machine (and of CI): tests write only under their own prefix. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueKeyPrefix(label: string): string {
  return `keplars-test:${label}:${randomUUID()}:`;
}

export function connectRedis(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/**
 * The stores a deduplication suite runs against, for `describe.each`: each entry is the store's
 * name, the `store` option (the Redis one under a prefix of its own, the Postgres one in a schema of
 * its own), and a cleanup for `afterAll`.
 */
export function deduplicationStores(label: string): [string, () => KeplarsDeduplicationOptions['store'], () => Promise<void>][] {
  const prefix = uniqueKeyPrefix(label);
  let redis: Redis | undefined;
  return [
    ['memory store', () => 'memory', async () => undefined],
    [
      'Redis store',
      () => {
        redis ??= connectRedis();
        return { redis: REDIS_URL, keyPrefix: prefix };
      },
      async () => {
        if (redis) await deleteKeys(redis, prefix);
        await redis?.quit();
      },
    ],
    (() => {
      const schema = uniqueSchema(label.replace(/-/g, '_'));
      return ['Postgres store', () => ({ postgres: POSTGRES_URL, schema }), () => dropSchemas(schema)] as [string, () => KeplarsDeduplicationOptions['store'], () => Promise<void>];
    })(),
  ];
}

/** Removes every key a test wrote under its prefix. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

/**
 * A Redis server of the test's own, on a free port, that the test can stop and start again (the
 * shared one must never be stopped). Needs `redis-server` on the PATH, as on CI.
 */
export class OwnRedisServer {
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes'], {
      stdio: 'ignore',
    });
    await new Promise((resolve, reject) => child.on('exit', resolve).on('error', reject));
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.cli('ping').stdout.toString().trim() === 'PONG') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    this.cli('shutdown', 'nosave');
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.cli('ping').status !== 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private cli(...args: string[]) {
    return spawnSync('redis-cli', ['-p', String(this.port), ...args], { timeout: 2000 });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
