import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AdapterName, TargetName } from '../bench-config.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../server.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/**
 * Where the processes run: the servers on core 0, the load generator on core 1, so neither steals the
 * other's CPU. Without `taskset` or a second core, nothing is pinned (and the report says so).
 */
export interface CpuPinning {
  readonly serverCore: number | undefined;
  readonly loadCore: number | undefined;
}

export function pinLoadGenerator(): CpuPinning {
  const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
  if (!hasTaskset || availableParallelism() < 2) return { serverCore: undefined, loadCore: undefined };
  // -a: every thread of this process (libuv's pool, V8's helpers), not just the main one.
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  if (pinned.status !== 0) return { serverCore: undefined, loadCore: undefined };
  return { serverCore: 0, loadCore: 1 };
}

/** One server under test, in its own process. */
export class ServerProcess {
  private constructor(
    readonly target: TargetName,
    readonly adapter: AdapterName,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly lines: Interface,
  ) {}

  /**
   * @param wrapper a command the server runs under (e.g. valgrind), which must run node in its own
   * process, as `taskset` and valgrind do, so the child's pid stays the server's.
   */
  static start(target: TargetName, adapter: AdapterName, pinning: CpuPinning, env: NodeJS.ProcessEnv = {}, wrapper: readonly string[] = []): Promise<ServerProcess> {
    const node = [...wrapper, process.execPath, SERVER_SCRIPT, target, adapter];
    // taskset execs node in place, so the child's pid is the server's.
    const [command, ...args] = pinning.serverCore === undefined ? node : ['taskset', '-c', String(pinning.serverCore), ...node];
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      const startTimeoutMs = wrapper.length === 0 ? START_TIMEOUT_MS : START_TIMEOUT_MS * 10;
      const timer = setTimeout(() => fail(new Error(`${target}/${adapter} did not start within ${startTimeoutMs / 1000} s`)), startTimeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.once('exit', (code) => fail(new Error(`${target}/${adapter} exited with code ${code} before it was ready`)));
      const onLine = (line: string): void => {
        const ready = /^READY (\d+)$/.exec(line);
        if (!ready) return void process.stdout.write(`[${target}/${adapter}] ${line}\n`);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        lines.off('line', onLine);
        resolve(new ServerProcess(target, adapter, Number(ready[1]), child, lines));
      };
      lines.on('line', onLine);
    });
  }

  /** Sends the server a signal and waits for the line it answers with (see server.ts). */
  signalAndWait(signal: NodeJS.Signals, answer: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve) => {
      const onLine = (line: string): void => {
        const match = answer.exec(line);
        if (!match) return;
        this.lines.off('line', onLine);
        resolve(match);
      };
      this.lines.on('line', onLine);
      this.child.kill(signal);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get name(): string {
    return `${this.target}/${this.adapter}`;
  }

  /** The most memory the server has held so far (VmHWM), in bytes. */
  peakRssBytes(): number {
    return this.procStatus('VmHWM');
  }

  rssBytes(): number {
    return this.procStatus('VmRSS');
  }

  /**
   * CPU time the server has used so far, every thread of it (JavaScript, GC helpers, libuv's pool), in
   * nanoseconds, from the scheduler's own accounting. Unlike throughput it hardly depends on what else
   * the machine runs: time the server waits for a core is not counted.
   */
  cpuNanoseconds(): number {
    let total = 0;
    for (const thread of readdirSync(`/proc/${this.child.pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${this.child.pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that ended meanwhile
      }
    }
    return total;
  }

  /** Stops the server: SIGINT closes the Nest app, then the process exits. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGINT');
    });
  }

  /** Read and write system calls the server has made so far (sockets included), from /proc/<pid>/io. */
  systemCalls(): { readonly reads: number; readonly writes: number } {
    const io = readFileSync(`/proc/${this.child.pid}/io`, 'utf8');
    const count = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? Number.NaN);
    return { reads: count('syscr'), writes: count('syscw') };
  }

  private procStatus(field: 'VmHWM' | 'VmRSS'): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kilobytes = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kilobytes === undefined ? Number.NaN : Number(kilobytes) * 1024;
  }
}
