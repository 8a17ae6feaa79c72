// `npm run bench:instructions`: how many machine instructions one request costs each target, counted
// by valgrind (callgrind) in the server process, every thread of it. A count does not depend on what
// else the machine runs, so it compares a change before and after on a busy machine, where throughput
// and even CPU time mostly measure the neighbours. The server starts under valgrind with counting off,
// takes a warm-up (so the JIT has compiled the hot path), then counts over a fixed number of requests.
// Slow (valgrind runs the server ~50x slower): a few thousand requests per target. Needs valgrind.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAPTERS, CEILING, REDIS_URL_ENV, TARGETS, traitsOf, type TargetName } from './bench-config.js';
import { BenchRedisServer } from './load/redis-server.js';
import { runLoad } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { describeMachine, machineLine } from './report/machine.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { median, table } from './report/stats.js';

const OUT_DIR = fileURLToPath(new URL('../../results/callgrind/', import.meta.url));

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const targets = listOption(options, 'targets', TARGETS);
  const adapters = listOption(options, 'adapters', ADAPTERS);
  const requests = numberOption(options, 'requests', 2_000);
  const warmup = numberOption(options, 'warmup', 10_000);
  const rounds = numberOption(options, 'rounds', 3);
  const connections = numberOption(options, 'connections', 50);
  const command = ['npm run bench:instructions', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('needs valgrind (apt-get install -y valgrind)');

  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  const events = new SignedEventSource();
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(
    `Load: autocannon, ${connections} connections, distinct signed events of ${events.bodyBytes} B; ${rounds} rounds of ${requests} requests counted per target after ${warmup} ` +
      '(the memory store is not filled to capacity first: too slow under valgrind)',
  );
  mkdirSync(OUT_DIR, { recursive: true });

  const redis = targets.some((target) => traitsOf(target).needsRedis) ? await BenchRedisServer.start(pinning) : undefined;
  const rows: string[][] = [];
  try {
    for (const adapter of adapters) {
      const perTarget = new Map<TargetName, number>();
      for (const target of targets) {
        const outFile = `${OUT_DIR}${target}-${adapter}.out`;
        for (let dump = 0; dump <= rounds; dump++) rmSync(dump === 0 ? outFile : `${outFile}.${dump}`, { force: true });
        const valgrind = ['valgrind', '--quiet', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`];
        const server = await ServerProcess.start(target, adapter, pinning, { [REDIS_URL_ENV]: redis?.url ?? '', BENCH_REDIS_OPERATION_TIMEOUT_MS: '60000' }, valgrind);
        const counts: number[] = [];
        try {
          await runLoad({ port: server.port, events, connections, amount: warmup, prepare: warmup, timeoutSeconds: 300 });
          for (let round = 0; round < rounds; round++) {
            control(server.pid, '--instr=on');
            const load = await runLoad({ port: server.port, events, connections, amount: requests, prepare: requests, timeoutSeconds: 300 });
            control(server.pid, '--instr=off');
            if (load.failures > 0) throw new Error(`${server.name}: ${load.failures} of ${load.completed} requests failed`);
            control(server.pid, '--dump');
            counts.push((await instructionsIn(`${outFile}.${round + 1}`)) / load.completed);
          }
        } finally {
          await server.stop();
        }
        perTarget.set(target, median(counts));
        console.log(`${server.name}: ${counts.map((count) => Math.round(count)).join(', ')} instructions per request`);
      }
      const ceiling = perTarget.get(CEILING);
      for (const [target, count] of perTarget) {
        rows.push([adapter, target, String(Math.round(count / 1000)), ceiling === undefined ? '–' : (ceiling / count).toFixed(2)]);
      }
    }
  } finally {
    await redis?.stop();
  }
  console.log(`\n${table(['adapter', 'target', 'k instructions/req', `expected x ${CEILING} (instruction ratio)`], rows)}`);
}

function control(pid: number, ...args: string[]): void {
  const result = spawnSync('callgrind_control', [...args, String(pid)], { timeout: 60_000 });
  if (result.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${result.stderr?.toString()}`);
}

/** The instruction count of a dump (callgrind numbers its dumps `<file>.1`, `<file>.2`…). */
async function instructionsIn(file: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const totals = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'))?.[1];
      if (totals !== undefined) return Number(totals);
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no callgrind dump in ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
