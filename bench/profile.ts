// `npm run bench:profile -- --target module --adapter fastify`: puts one target under the benchmark's
// load, profiles its CPU during the measured part only (after a warm-up), and prints where the busy
// time went: by package, by function (self and inclusive), in µs per request. The .cpuprofile is kept
// in bench/results/profiles for DevTools. With several targets (`--target hmac-guard,module`), it
// then prints where each costs more than the first, function by function: a profile diff.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAPTERS, REDIS_URL_ENV, TARGETS, traitsOf } from './bench-config.js';
import { BenchRedisServer } from './load/redis-server.js';
import { runLoad } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { defaultStoreCapacity } from './load/store-capacity.js';
import { summariseCpuProfile, type CostLine } from './report/cpu-profile.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { table } from './report/stats.js';

const PROFILES_DIR = fileURLToPath(new URL('../../results/profiles/', import.meta.url));

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const targets = listOption(options, 'target', TARGETS);
  const [adapter] = listOption(options, 'adapter', ADAPTERS);
  const durationSeconds = numberOption(options, 'duration', 8);
  const warmupSeconds = numberOption(options, 'warmup', 4);
  const top = numberOption(options, 'top', 30);
  const connections = numberOption(options, 'connections', 50);

  mkdirSync(PROFILES_DIR, { recursive: true });
  const pinning = pinLoadGenerator();
  const events = new SignedEventSource();
  const redis = targets.some((target) => traitsOf(target).needsRedis) && !options.has('redis-url') ? await BenchRedisServer.start(pinning) : undefined;
  const profiled: { target: string; file: string; requests: number }[] = [];
  try {
    for (const target of targets) profiled.push(await profileTarget(target));
  } finally {
    await redis?.stop();
  }
  const [first, ...others] = profiled;
  for (const other of others) printDiff(first!, other, top);

  async function profileTarget(target: (typeof targets)[number]): Promise<{ target: string; file: string; requests: number }> {
    const env = { BENCH_CPU_PROFILE_DIR: PROFILES_DIR, [REDIS_URL_ENV]: options.get('redis-url') ?? redis?.url ?? '' };
    const server = await ServerProcess.start(target, adapter!, pinning, env);
    let file: string;
    let requests: number;
    try {
      await runLoad({ port: server.port, events, connections, durationSeconds: warmupSeconds });
      // The module's steady state: its deduplication store full, evicting (as in the benchmark).
      if (traitsOf(target).fillsMemoryStore) await runLoad({ port: server.port, events, connections, amount: defaultStoreCapacity(), prepare: defaultStoreCapacity() });
      await server.signalAndWait('SIGUSR2', /^PROFILING$/);
      const result = await runLoad({ port: server.port, events, connections, durationSeconds, prepare: 40_000 * durationSeconds });
      file = (await server.signalAndWait('SIGUSR2', /^PROFILE (.+)$/))[1]!;
      requests = result.completed;
      console.log(`\n${server.name}: ${Math.round(result.requestsPerSecond)} req/s under the profiler, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
    } finally {
      await server.stop();
    }

    const summary = summariseCpuProfile(file, top);
    const perRequest = (micros: number): string => (micros / requests).toFixed(2);
    const rows = (lines: readonly CostLine[]): string[][] => lines.map((line) => [perRequest(line.micros), `${(line.share * 100).toFixed(1)}%`, line.name]);
    const busy = summary.busyMicros / (summary.busyMicros + summary.idleMicros);
    console.log(`Profile: ${file}`);
    console.log(`${requests} requests; busy ${(busy * 100).toFixed(0)}% of the time, ${perRequest(summary.busyMicros)} µs of CPU per request\n`);
    console.log(`By origin (self time)\n${table(['µs/req', 'share', 'where'], rows(summary.byOrigin))}\n`);
    console.log(`Top functions, self time\n${table(['µs/req', 'share', 'function'], rows(summary.self))}\n`);
    console.log(`Top functions, inclusive time\n${table(['µs/req', 'share', 'function'], rows(summary.inclusive))}`);
    return { target, file, requests };
  }
}

/** Self time per request of `other` minus that of `base`, by origin and by function, largest first. */
function printDiff(base: { target: string; file: string; requests: number }, other: { target: string; file: string; requests: number }, top: number): void {
  const all = (profile: typeof base) => summariseCpuProfile(profile.file, Number.MAX_SAFE_INTEGER);
  const [from, to] = [all(base), all(other)];
  const perRequest = (lines: readonly CostLine[], requests: number) => new Map(lines.map((line) => [line.name, line.micros / requests]));
  const diff = (fromLines: readonly CostLine[], toLines: readonly CostLine[], limit: number): string[][] => {
    const [a, b] = [perRequest(fromLines, base.requests), perRequest(toLines, other.requests)];
    return [...new Set([...a.keys(), ...b.keys()])]
      .map((name) => ({ name, a: a.get(name) ?? 0, b: b.get(name) ?? 0 }))
      .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a))
      .slice(0, limit)
      .map(({ name, a, b }) => [(b - a >= 0 ? '+' : '') + (b - a).toFixed(2), a.toFixed(2), b.toFixed(2), name]);
  };
  const total = (summary: typeof from, requests: number) => (summary.busyMicros / requests).toFixed(2);
  console.log(`\n${other.target} against ${base.target}: ${total(to, other.requests)} against ${total(from, base.requests)} µs of CPU per request`);
  console.log(`By origin (self time)\n${table(['difference µs/req', base.target, other.target, 'where'], diff(from.byOrigin, to.byOrigin, top))}\n`);
  console.log(`By function (self time), the largest differences\n${table(['difference µs/req', base.target, other.target, 'function'], diff(from.self, to.self, top))}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
