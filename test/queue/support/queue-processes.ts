import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = join(root, 'test/queue/support/queue-app-process.mjs');

/**
 * Compiles the library with `tsc` into a folder of its own under dist/ (so Node finds the repo's
 * node_modules from there), for apps run in child processes. Returns its index.js and a cleanup.
 */
export function buildLibraryForProcesses(): { library: string; remove: () => void } {
  const outDir = join(root, 'dist', `queue-processes-${randomUUID()}`);
  const built = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'libs/keplars-webhook/tsconfig.lib.json'), '--outDir', outDir], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`tsc failed:\n${built.stdout}${built.stderr}`);
  return { library: join(outDir, 'index.js'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface QueueAppSettings {
  library: string;
  role: 'receive' | 'process' | 'receive-and-process';
  adapter?: 'express' | 'fastify';
  redisUrl: string;
  prefix: string;
  secret: string;
  ledger: string;
  attempts?: number;
  stalledSeconds?: number;
  lockSeconds?: number;
  /** The slow handler hangs on events whose metadata has `block`. */
  block?: boolean;
}

/** One app in a child process (test/queue/support/queue-app-process.mjs). */
export class QueueAppProcess {
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number | undefined,
  ) {}

  static async start(settings: QueueAppSettings): Promise<QueueAppProcess> {
    return QueueAppProcess.spawn(SCRIPT, settings.role, {
      KEPLARS_LIBRARY: settings.library,
      KEPLARS_ROLE: settings.role,
      KEPLARS_ADAPTER: settings.adapter ?? 'express',
      KEPLARS_REDIS_URL: settings.redisUrl,
      KEPLARS_PREFIX: settings.prefix,
      KEPLARS_SECRET: settings.secret,
      KEPLARS_LEDGER: settings.ledger,
      KEPLARS_ATTEMPTS: String(settings.attempts ?? 3),
      KEPLARS_STALLED_SECONDS: String(settings.stalledSeconds ?? 1),
      KEPLARS_LOCK_SECONDS: String(settings.lockSeconds ?? 2),
      KEPLARS_BLOCK: settings.block ? '1' : '0',
    });
  }

  /**
   * Starts another app script the same way (`script` prints `{"ready":true,"port":…}` when up):
   * its settings come from `env`; `role` names it in errors.
   */
  static async spawn(script: string, role: string, env: Record<string, string>): Promise<QueueAppProcess> {
    const child = spawn(process.execPath, [script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...env }, // not Jest's VM-modules flags
    });
    let output = '';
    const ready = new Promise<{ port?: number }>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${role} process did not start within 30 s:\n${output}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((text) => text.startsWith('{"ready"'));
        if (line) {
          clearTimeout(timer);
          resolvePort(JSON.parse(line));
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the ${role} process exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    const { port } = await ready;
    const app = new QueueAppProcess(child, port);
    app.output = output;
    child.stdout!.on('data', (chunk: Buffer) => (app.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (app.output += chunk.toString()));
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/webhooks/keplars`;
  }

  /** What the process printed (its warnings and errors), for a failing test's message. */
  get log(): string {
    return this.output;
  }

  /** Kills it at once, as the kernel would: no shutdown hook runs. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /** Stops it as an orchestrator would: Nest's shutdown hooks let running handlers finish. */
  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolveExit) => this.child.once('exit', resolveExit));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
