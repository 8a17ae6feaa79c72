// `npm run bench:cost`: what one request costs each target: the server's CPU time (every thread, from
// the kernel's scheduler accounting), and for targets on Redis what each delivery asks of Redis:
// commands (the scripts and the commands they run), socket reads (round trips, fewer when pipelined),
// bytes each way, and Redis's own CPU time. Throughput on a busy machine measures the neighbours;
// these figures hardly move with load, so they compare a change before and after on any machine.
// Servers under the same load as in `npm run bench` (50 connections, distinct signed events), measured
// over a fixed number of requests after a warm-up, in rounds; the table gives the medians.
import { ADAPTERS, CEILING, REDIS_URL_ENV, TARGETS, traitsOf, type AdapterName, type TargetName } from './bench-config.js';
import { BenchRedisServer } from './load/redis-server.js';
import { runLoad } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { defaultStoreCapacity } from './load/store-capacity.js';
import { describeMachine, machineLine } from './report/machine.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { median, table } from './report/stats.js';

interface RedisCost {
  /** Redis commands per delivery by name: the scripts (evalsha, eval) and what they ran. */
  readonly commands: ReadonlyMap<string, number>;
  readonly reads: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly cpuMicros: number;
}

interface Round {
  readonly cpuMicros: number;
  /** Read and write system calls per request (HTTP and Redis sockets both). */
  readonly reads: number;
  readonly writes: number;
  readonly redis?: RedisCost;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const targets = listOption(options, 'targets', TARGETS);
  const adapters = listOption(options, 'adapters', ADAPTERS);
  const requests = numberOption(options, 'requests', 30_000);
  const warmup = numberOption(options, 'warmup', 20_000);
  const rounds = numberOption(options, 'rounds', 3);
  const connections = numberOption(options, 'connections', 50);
  const command = ['npm run bench:cost', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

  const machine = describeMachine(); // before pinning: it counts the cores this process may use
  const pinning = pinLoadGenerator();
  const events = new SignedEventSource();
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(`Load: autocannon, ${connections} connections, distinct signed events of ${events.bodyBytes} B; ${rounds} rounds of ${requests} requests per target after ${warmup}`);

  const redis = targets.some((target) => traitsOf(target).needsRedis) ? await BenchRedisServer.start(pinning) : undefined;
  const rows: string[][] = [];
  try {
    for (const adapter of adapters) {
      const servers: ServerProcess[] = [];
      try {
        for (const target of targets) servers.push(await ServerProcess.start(target, adapter, pinning, { [REDIS_URL_ENV]: redis?.url ?? '' }));
        for (const server of servers) {
          await runLoad({ port: server.port, events, connections, amount: warmup, prepare: warmup });
          if (traitsOf(server.target).fillsMemoryStore) await runLoad({ port: server.port, events, connections, amount: defaultStoreCapacity(), prepare: defaultStoreCapacity() });
        }
        const measured = new Map<ServerProcess, Round[]>(servers.map((server) => [server, []]));
        for (let round = 0; round < rounds; round++) {
          for (const server of servers) measured.get(server)!.push(await measure(server, requests, connections, events, traitsOf(server.target).needsRedis ? redis : undefined));
        }
        rows.push(...summarise(adapter, measured));
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
      }
    }
  } finally {
    await redis?.stop();
  }
  console.log('');
  console.log(
    table(
      ['adapter', 'target', 'server CPU µs/req', `expected x ${CEILING} (CPU ratio)`, 'server read/write syscalls per req', 'Redis commands/delivery', 'Redis reads/delivery', 'Redis bytes in/out', 'Redis CPU µs/delivery'],
      rows,
    ),
  );
}

async function measure(server: ServerProcess, requests: number, connections: number, events: SignedEventSource, redis: BenchRedisServer | undefined): Promise<Round> {
  redis?.cli('config', 'resetstat');
  const redisCpuBefore = redis ? redisCpuMicros(redis) : 0;
  const callsBefore = server.systemCalls();
  const before = server.cpuNanoseconds();
  const load = await runLoad({ port: server.port, events, connections, amount: requests, prepare: requests });
  const cpuMicros = (server.cpuNanoseconds() - before) / 1000 / load.completed;
  const callsAfter = server.systemCalls();
  const reads = (callsAfter.reads - callsBefore.reads) / load.completed;
  const writes = (callsAfter.writes - callsBefore.writes) / load.completed;
  if (load.failures > 0) throw new Error(`${server.name}: ${load.failures} of ${load.completed} requests failed`);
  if (redis === undefined) return { cpuMicros, reads, writes };
  const stats = info(redis, 'stats');
  const commands = new Map<string, number>();
  for (const [name, value] of info(redis, 'commandstats')) {
    const calls = /calls=(\d+)/.exec(value)?.[1];
    if (!/^cmdstat_(config|info)/.test(name) && calls !== undefined) commands.set(name.replace('cmdstat_', ''), Number(calls) / load.completed);
  }
  return {
    cpuMicros,
    reads,
    writes,
    redis: {
      commands,
      reads: Number(stats.get('total_reads_processed')) / load.completed,
      bytesIn: Number(stats.get('total_net_input_bytes')) / load.completed,
      bytesOut: Number(stats.get('total_net_output_bytes')) / load.completed,
      cpuMicros: (redisCpuMicros(redis) - redisCpuBefore) / load.completed,
    },
  };
}

function summarise(adapter: AdapterName, measured: ReadonlyMap<ServerProcess, Round[]>): string[][] {
  const cpuOf = (target: TargetName): number => {
    const server = [...measured.keys()].find((candidate) => candidate.target === target);
    return server === undefined ? Number.NaN : median(measured.get(server)!.map((round) => round.cpuMicros));
  };
  const ceiling = cpuOf(CEILING);
  return [...measured].map(([server, rounds]) => {
    const cpu = median(rounds.map((round) => round.cpuMicros));
    const redis = rounds.map((round) => round.redis).filter((cost) => cost !== undefined);
    const mid = (pick: (cost: RedisCost) => number): number => median(redis.map(pick));
    const commandNames = [...new Set(redis.flatMap((cost) => [...cost.commands.keys()]))].sort();
    return [
      adapter,
      server.target,
      cpu.toFixed(1),
      Number.isNaN(ceiling) ? '–' : (ceiling / cpu).toFixed(2),
      `${median(rounds.map((round) => round.reads)).toFixed(2)} / ${median(rounds.map((round) => round.writes)).toFixed(2)}`,
      redis.length === 0 ? '' : commandNames.map((name) => `${name} ${mid((cost) => cost.commands.get(name) ?? 0).toFixed(2)}`).join(', '),
      redis.length === 0 ? '' : mid((cost) => cost.reads).toFixed(2),
      redis.length === 0 ? '' : `${Math.round(mid((cost) => cost.bytesIn))} / ${Math.round(mid((cost) => cost.bytesOut))}`,
      redis.length === 0 ? '' : mid((cost) => cost.cpuMicros).toFixed(1),
    ];
  });
}

function info(redis: BenchRedisServer, section: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of redis.cli('info', section).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

function redisCpuMicros(redis: BenchRedisServer): number {
  const cpu = info(redis, 'cpu');
  return (Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'))) * 1e6;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
