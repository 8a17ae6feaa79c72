// `npm run bench:memory`: peak RSS of `bare` and `module` (memory deduplication store, default options)
// after a million distinct signed events each, over loopback (SPEC §5: within 30 MB of bare).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAPTERS, type AdapterName, type TargetName } from './bench-config.js';
import { runLoad, type LoadResult } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { describeMachine, machineLine } from './report/machine.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { megabytes, table } from './report/stats.js';

const RSS_GOAL_MB = 30;
const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

interface MemoryRun {
  readonly adapter: AdapterName;
  readonly target: TargetName;
  readonly load: LoadResult;
  readonly rssAtStartBytes: number;
  readonly rssAtEndBytes: number;
  readonly peakRssBytes: number;
  /** RSS every second of the run, to show whether it levels off. */
  readonly rssSamplesBytes: readonly number[];
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const events = numberOption(options, 'events', 1_000_000);
  const connections = numberOption(options, 'connections', 50);
  const adapters = listOption(options, 'adapters', ADAPTERS);
  const command = ['npm run bench:memory', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  const source = new SignedEventSource();
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(`Load: ${events} distinct signed events of ${source.bodyBytes} B per server, ${connections} connections`);

  const runs: MemoryRun[] = [];
  for (const adapter of adapters) {
    for (const target of ['bare', 'module'] as const) {
      const server = await ServerProcess.start(target, adapter, pinning);
      try {
        const rssAtStartBytes = server.rssBytes();
        const rssSamplesBytes: number[] = [];
        const sampler = setInterval(() => rssSamplesBytes.push(server.rssBytes()), 1000);
        const load = await runLoad({ port: server.port, events: source, connections, amount: events }).finally(() => clearInterval(sampler));
        if (load.failures > 0) throw new Error(`${server.name}: ${load.failures} of ${load.completed} requests failed`);
        const run = { adapter, target, load, rssAtStartBytes, rssAtEndBytes: server.rssBytes(), peakRssBytes: server.peakRssBytes(), rssSamplesBytes };
        runs.push(run);
        console.log(`${server.name}: ${load.completed} events in ${load.seconds} s, peak RSS ${megabytes(run.peakRssBytes).toFixed(1)} MB`);
      } finally {
        await server.stop();
      }
    }
  }

  const mb = (bytes: number): string => megabytes(bytes).toFixed(1);
  console.log(
    `\n${table(
      ['adapter', 'target', 'events', 'RSS at start MB', 'RSS at 50% MB', 'RSS at end MB', 'peak RSS MB', 'peak - bare MB', `goal <= ${RSS_GOAL_MB} MB`],
      runs.map((run) => {
        const bare = runs.find((other) => other.adapter === run.adapter && other.target === 'bare')!;
        const over = run.peakRssBytes - bare.peakRssBytes;
        const halfway = run.rssSamplesBytes[Math.floor(run.rssSamplesBytes.length / 2)] ?? Number.NaN;
        return [
          run.adapter,
          run.target,
          String(run.load.completed),
          mb(run.rssAtStartBytes),
          mb(halfway),
          mb(run.rssAtEndBytes),
          mb(run.peakRssBytes),
          run.target === 'bare' ? '' : mb(over),
          run.target === 'bare' ? '' : megabytes(over) <= RSS_GOAL_MB ? 'MET' : 'NOT MET',
        ];
      }),
    )}`,
  );

  mkdirSync(RESULTS_DIR, { recursive: true });
  const report = { date: new Date().toISOString(), command, machine, settings: { events, connections, bodyBytes: source.bodyBytes, pinning }, runs };
  const file = `${RESULTS_DIR}memory-${report.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${RESULTS_DIR}memory-latest.json`, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nResults: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
