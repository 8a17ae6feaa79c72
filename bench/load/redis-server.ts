import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { CpuPinning } from './server-process.js';

/** Enough for every key of a benchmark; beyond it Redis evicts the least recently used (all keys expire). */
const MAX_MEMORY = '512mb';

/**
 * A Redis server of the benchmark's own, on a free loopback port, so the shared one (other people's
 * tests) neither disturbs the measurement nor fills with its keys. It runs beside the load generator
 * (not on the servers' core), as a Redis on another machine would; nothing is persisted.
 */
export class BenchRedisServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(pinning: CpuPinning): Promise<BenchRedisServer> {
    const port = await freePort();
    const redis = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const settings = ['--maxmemory', MAX_MEMORY, '--maxmemory-policy', 'volatile-lru', '--loglevel', 'warning'];
    const [command, ...args] = pinning.loadCore === undefined ? [...redis, ...settings] : ['taskset', '-c', String(pinning.loadCore), ...redis, ...settings];
    const child = spawn(command!, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    process.once('exit', () => child.kill()); // even when the benchmark dies or is stopped midway
    const server = new BenchRedisServer(port, child);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (server.cli('ping') === 'PONG') return server;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port} (is it installed? apt-get install -y redis-server)`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** One redis-cli command; its output, trimmed. */
  cli(...args: string[]): string {
    return spawnSync('redis-cli', ['-p', String(this.port), ...args], { timeout: 5000 }).stdout?.toString().trim() ?? '';
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
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
