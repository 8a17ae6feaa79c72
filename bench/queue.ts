// `npm run bench:queue`: queue mode past the answer (issue 12, "Measured"), on a Redis server of the
// benchmark's own.
// 1. End-to-end latency, POST -> handler start, p50 and p99, at a steady rate well below saturation:
//    the worker in the receiving process (role receive-and-process), and in a process of its own
//    (a receiver with role receive, a worker with role process).
// 2. Events processed per second with 1 to 4 worker processes (no-op handler): the queue is filled
//    while paused, the workers start, and the clock runs from the resume to the last handler start.
// Processes are not pinned (the workers are meant to spread over the cores); `uptime` is printed.
// `--backend postgres`: the same on the machine's PostgreSQL (BENCH_POSTGRES_URL), BullMQ's Postgres backend.
import { createPostgresBackend, Queue, withBackend } from 'bullmq';
import pg from 'pg';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { KEPLARS_QUEUE_NAME } from '../libs/keplars-webhook/src/index.js';
import { QUEUE_PREFIX_ENV, REDIS_URL_ENV, WEBHOOK_PATH } from './bench-config.js';
import { BenchRedisServer } from './load/redis-server.js';
import { runLoad } from './load/run-load.js';
import { SignedEventSource } from './load/signed-events.js';
import { wallClockMs } from './load/wall-clock.js';
import { describeMachine, machineLine } from './report/machine.js';
import { numberOption, parseArguments } from './report/options.js';
import { table } from './report/stats.js';

const APP_SCRIPT = fileURLToPath(new URL('./queue-app.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));
const NOT_PINNED = { serverCore: undefined, loadCore: undefined };
const POSTGRES_URL = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A queue-mode process of `queue-app.ts`, and the handler starts it reports. */
class QueueAppProcess {
  /** Event id -> wall clock of its handler's start. */
  readonly starts = new Map<string, number>();
  private listeners: (() => void)[] = [];

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static start(role: string, redisUrl: string, prefix: string): Promise<QueueAppProcess> {
    const child = spawn(process.execPath, [APP_SCRIPT, role], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, [REDIS_URL_ENV]: redisUrl, [QUEUE_PREFIX_ENV]: prefix },
    });
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      let app: QueueAppProcess | undefined;
      const timer = setTimeout(() => reject(new Error(`${role} did not start within 30 s`)), 30_000);
      child.once('exit', (code) => app === undefined && reject(new Error(`${role} exited with code ${code} before it was ready`)));
      lines.on('line', (line) => {
        const start = /^S (\S+) ([\d.]+)$/.exec(line);
        if (start && app) {
          app.starts.set(start[1]!, Number(start[2]));
          for (const listener of app.listeners) listener();
          return;
        }
        const ready = /^READY (\d+)$/.exec(line);
        if (ready && !app) {
          clearTimeout(timer);
          app = new QueueAppProcess(Number(ready[1]), child);
          return resolve(app);
        }
        process.stdout.write(`[${role}] ${line}\n`);
      });
    });
  }

  /** Resolves once `count` handler starts were reported, or fails after `timeoutMs`. */
  waitForStarts(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.starts.size < count) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`only ${this.starts.size} of ${count} handler starts within ${timeoutMs / 1000} s`)), timeoutMs);
      this.listeners.push(check);
      check();
    });
  }

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
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface LatencyResult {
  readonly placement: string;
  readonly events: number;
  readonly ratePerSecond: number;
  readonly answerP50Ms: number;
  readonly answerP99Ms: number;
  readonly handlerStartP50Ms: number;
  readonly handlerStartP99Ms: number;
  readonly handlerStartMaxMs: number;
}

/** Sends `events` signed events at `rate` per second (open loop) and times each to its handler's start. */
async function measureLatency(placement: string, port: number, worker: QueueAppProcess, events: number, rate: number): Promise<LatencyResult> {
  const source = new SignedEventSource();
  source.prepare(events);
  const sentAt = new Map<string, number>();
  const answers: number[] = [];
  const started = wallClockMs();
  const posts: Promise<void>[] = [];
  for (let index = 0; index < events; index++) {
    const due = started + (index * 1000) / rate;
    const wait = due - wallClockMs();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { body, headers } = source.next();
    const id = (JSON.parse(body) as { id: string }).id;
    const sent = wallClockMs();
    sentAt.set(id, sent);
    posts.push(
      fetch(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, { method: 'POST', headers, body }).then(async (response) => {
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${placement}: answered ${response.status}`);
        answers.push(wallClockMs() - sent);
      }),
    );
  }
  await Promise.all(posts);
  await worker.waitForStarts(events, 60_000);
  const latencies = [...sentAt].map(([id, sent]) => worker.starts.get(id)! - sent).sort((a, b) => a - b);
  answers.sort((a, b) => a - b);
  return {
    placement,
    events,
    ratePerSecond: rate,
    answerP50Ms: percentile(answers, 50),
    answerP99Ms: percentile(answers, 99),
    handlerStartP50Ms: percentile(latencies, 50),
    handlerStartP99Ms: percentile(latencies, 99),
    handlerStartMaxMs: latencies.at(-1)!,
  };
}

interface WorkersResult {
  readonly workers: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly perWorker: number;
  readonly share: readonly number[];
}

/** Fills a paused queue with `events`, starts `workers` worker processes, resumes, and times the drain. */
async function measureWorkers(redisUrl: string, workers: number, events: number): Promise<WorkersResult> {
  const prefix = placeName(redisUrl, `bench-workers-${workers}`);
  const onPostgres = redisUrl.startsWith('postgres');
  const connection = onPostgres ? undefined : new Redis(redisUrl, { maxRetriesPerRequest: null });
  const PostgresQueue = onPostgres ? withBackend(createPostgresBackend).Queue : undefined;
  const queue = PostgresQueue
    ? new PostgresQueue(KEPLARS_QUEUE_NAME, { connection: { connectionString: redisUrl, schema: prefix, migrate: true } } as never)
    : new Queue(KEPLARS_QUEUE_NAME, { connection: connection!, prefix });
  const processes: QueueAppProcess[] = [];
  try {
    await queue.pause();
    const receiver = await QueueAppProcess.start('receive', redisUrl, prefix);
    processes.push(receiver);
    const fill = await runLoad({ port: receiver.port, events: new SignedEventSource(), connections: 20, amount: events, prepare: events });
    if (fill.ok !== events) throw new Error(`filling the queue: ${fill.ok} of ${events} answered 2xx`);
    for (let index = 0; index < workers; index++) processes.push(await QueueAppProcess.start('process', redisUrl, prefix));
    const pool = processes.slice(1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // every worker waiting on the queue
    const resumed = wallClockMs();
    await queue.resume();
    const deadline = Date.now() + 120_000;
    while (pool.reduce((sum, worker) => sum + worker.starts.size, 0) < events) {
      if (Date.now() > deadline) throw new Error(`${workers} worker(s) did not handle ${events} events within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const last = Math.max(...pool.flatMap((worker) => [...worker.starts.values()]));
    const seconds = (last - resumed) / 1000;
    return {
      workers,
      events,
      seconds,
      eventsPerSecond: events / seconds,
      perWorker: events / seconds / workers,
      share: pool.map((worker) => worker.starts.size),
    };
  } finally {
    await Promise.all(processes.map((each) => each.stop()));
    await queue.close();
    await connection?.quit();
    if (onPostgres) await dropSchema(redisUrl, prefix);
  }
}

/** A prefix on Redis; on Postgres a schema of this run's own (letters, digits, _). */
function placeName(server: string, name: string): string {
  return server.startsWith('postgres') ? `${name.replace(/-/g, '_')}_${process.pid}` : name;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const latencyEvents = numberOption(options, 'events', 1000);
  const rate = numberOption(options, 'rate', 200);
  const workerEvents = numberOption(options, 'worker-events', 4000);
  const maxWorkers = numberOption(options, 'workers', 4);
  const backend = options.get('backend') ?? 'redis';
  if (backend !== 'redis' && backend !== 'postgres') throw new Error(`--backend must be redis or postgres (got ${backend})`);
  const command = ['npm run bench:queue', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const uptime = (): string => spawnSync('uptime').stdout.toString().trim();

  const machine = describeMachine();
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(`uptime at start: ${uptime()}`);
  console.log(
    `Latency: ${latencyEvents} distinct signed events at ${rate}/s (open loop), POST -> handler start; ` +
      `workers: ${workerEvents} events per run, 1..${maxWorkers} worker processes of concurrency 10, no-op handler. ` +
      (backend === 'redis' ? "Redis: a redis-server of the benchmark's own." : `Postgres: the machine's server at ${POSTGRES_URL} (BullMQ's Postgres backend), a schema per run.`) +
      ' Nothing pinned.',
  );

  const redis = backend === 'redis' ? await BenchRedisServer.start(NOT_PINNED) : { url: POSTGRES_URL, stop: async () => undefined };
  if (redis instanceof BenchRedisServer) redis.cli('config', 'set', 'maxmemory-policy', 'noeviction'); // what BullMQ asks of its Redis: jobs are never evicted
  const latencies: LatencyResult[] = [];
  const workerRuns: WorkersResult[] = [];
  try {
    // 1. Latency, the worker in the receiving process…
    const together = await QueueAppProcess.start('receive-and-process', redis.url, placeName(redis.url, 'bench-latency-together'));
    try {
      await measureLatency('warm-up', together.port, together, Math.min(200, latencyEvents), rate);
      together.starts.clear();
      latencies.push(await measureLatency('worker in the receiving process', together.port, together, latencyEvents, rate));
    } finally {
      await together.stop();
      if (backend === 'postgres') await dropSchema(redis.url, placeName(redis.url, 'bench-latency-together'));
    }
    // …and in a process of its own.
    const receiver = await QueueAppProcess.start('receive', redis.url, placeName(redis.url, 'bench-latency-apart'));
    const worker = await QueueAppProcess.start('process', redis.url, placeName(redis.url, 'bench-latency-apart'));
    try {
      await measureLatency('warm-up', receiver.port, worker, Math.min(200, latencyEvents), rate);
      worker.starts.clear();
      latencies.push(await measureLatency('worker in a separate process', receiver.port, worker, latencyEvents, rate));
    } finally {
      await Promise.all([receiver.stop(), worker.stop()]);
      if (backend === 'postgres') await dropSchema(redis.url, placeName(redis.url, 'bench-latency-apart'));
    }
    console.log('');
    console.log(
      table(
        ['placement', 'events', 'rate/s', 'answer p50 ms', 'answer p99 ms', 'handler start p50 ms', 'handler start p99 ms', 'max ms'],
        latencies.map((result) => [
          result.placement,
          String(result.events),
          String(result.ratePerSecond),
          result.answerP50Ms.toFixed(2),
          result.answerP99Ms.toFixed(2),
          result.handlerStartP50Ms.toFixed(2),
          result.handlerStartP99Ms.toFixed(2),
          result.handlerStartMaxMs.toFixed(2),
        ]),
      ),
    );

    // 2. Events per second as workers are added.
    for (let workers = 1; workers <= maxWorkers; workers++) {
      const result = await measureWorkers(redis.url, workers, workerEvents);
      workerRuns.push(result);
      console.log(`${workers} worker(s): ${Math.round(result.eventsPerSecond)} events/s (${result.share.join(' + ')} events)`);
    }
    const one = workerRuns[0]!.eventsPerSecond;
    console.log('');
    console.log(
      table(
        ['workers', 'events', 'seconds', 'events/s', 'per worker', 'x 1 worker'],
        workerRuns.map((result) => [
          String(result.workers),
          String(result.events),
          result.seconds.toFixed(2),
          String(Math.round(result.eventsPerSecond)),
          String(Math.round(result.perWorker)),
          (result.eventsPerSecond / one).toFixed(2),
        ]),
      ),
    );
    console.log(`uptime at end: ${uptime()}`);

    mkdirSync(RESULTS_DIR, { recursive: true });
    const report = { date: new Date().toISOString(), command, backend, machine, loadAverageAtEnd: loadavg(), latencies, workers: workerRuns };
    const file = `${RESULTS_DIR}queue-${backend}-${report.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nResults: ${file}`);
  } finally {
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
