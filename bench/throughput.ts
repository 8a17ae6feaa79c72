// `npm run bench`: bare vs handwritten vs this module, on Express and on Fastify (SPEC §5), with
// `hmac-guard` (bare behind the signature check alone) as the ceiling of any receiver that verifies.
// Every server runs in its own process pinned to core 0, the load generator (this process) on core 1;
// the targets take turns within each round, and the table reports the medians over the rounds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ADAPTERS, runsTheModule, TARGETS, type AdapterName, type TargetName } from './bench-config.js';
import { runLoad, type LoadResult } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { defaultStoreCapacity } from './load/store-capacity.js';
import { describeMachine, machineLine } from './report/machine.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { median, megabytes, table } from './report/stats.js';

/** SPEC §5's goals for `module`, as ratios to `bare` on the same adapter. */
const THROUGHPUT_GOAL: Record<AdapterName, number> = { express: 0.9, fastify: 0.75 };
const P99_GOAL = 1.25;
/** Events signed ahead of a run, as a multiple of what the server took at its fastest so far. */
const PREPARE_MARGIN = 1.4;

const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

interface TargetSummary {
  readonly adapter: AdapterName;
  readonly target: TargetName;
  readonly rounds: readonly LoadResult[];
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssBytes: number;
  readonly throughputVsBare: number;
  /** The median of each round's ratio to bare (runs of one round are close in time: a check on drift). */
  readonly throughputVsBarePerRound: number;
  readonly p99VsBare: number;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const rounds = numberOption(options, 'rounds', 5);
  const durationSeconds = numberOption(options, 'duration', 5);
  const warmupSeconds = numberOption(options, 'warmup', 4);
  const connections = numberOption(options, 'connections', 50);
  const targets = listOption(options, 'targets', TARGETS);
  const adapters = listOption(options, 'adapters', ADAPTERS);
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

  const storeCapacity = defaultStoreCapacity();
  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  const events = new SignedEventSource();
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(
    `Load: autocannon, ${connections} connections, distinct signed events of ${events.bodyBytes} B (signed before each run), ` +
      `${rounds} rounds x ${durationSeconds} s per target after a ${warmupSeconds} s warm-up (module: and ${storeCapacity} events, to fill its store); ` +
      (pinning.serverCore === undefined ? 'NOT pinned (no taskset or one core)' : `servers on core ${pinning.serverCore}, load on core ${pinning.loadCore}`),
  );

  const servers: ServerProcess[] = [];
  try {
    for (const adapter of adapters) {
      for (const target of targets) servers.push(await ServerProcess.start(target, adapter, pinning));
    }
    for (const server of servers) await checkAnswers(server, events);

    // The fastest rate seen of each server sizes the events signed before its next run.
    const fastest = new Map<ServerProcess, number>();
    const prepareFor = (server: ServerProcess): number => Math.ceil((fastest.get(server) ?? 0) * PREPARE_MARGIN * durationSeconds);
    const measure = async (server: ServerProcess, seconds: number, amount?: number): Promise<LoadResult> => {
      const length = amount === undefined ? { durationSeconds: seconds, prepare: prepareFor(server) } : { amount, prepare: amount };
      const result = await runLoad({ port: server.port, events, connections, ...length });
      fastest.set(server, Math.max(fastest.get(server) ?? 0, result.requestsPerSecond));
      return result;
    };

    for (const server of servers) {
      process.stdout.write(`warm-up ${server.name}… `);
      await measure(server, warmupSeconds / 2);
      // The module is measured in its steady state: a deduplication store already full, evicting.
      const warm = await measure(server, warmupSeconds / 2, runsTheModule(server.target) ? storeCapacity : undefined);
      process.stdout.write(`${Math.round(warm.requestsPerSecond)} req/s\n`);
    }

    const results = new Map<ServerProcess, LoadResult[]>(servers.map((server) => [server, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round starts one target later, so no target always runs first or right after another.
      const order = servers.map((_, index) => servers[(index + round) % servers.length]!);
      const line: string[] = [];
      for (const server of order) {
        const result = await measure(server, durationSeconds);
        if (result.failures > 0) throw new Error(`${server.name}: ${result.failures} of ${result.completed} requests failed; not a measurement`);
        results.get(server)!.push(result);
        line.push(`${server.name} ${Math.round(result.requestsPerSecond)}`);
      }
      console.log(`round ${round + 1}/${rounds}: ${line.join(', ')}`);
    }

    const summaries = summarise(servers, results);
    console.log('');
    console.log(formatTable(summaries));
    console.log('');
    for (const line of goalLines(summaries)) console.log(line);

    mkdirSync(RESULTS_DIR, { recursive: true });
    const report = {
      date: new Date().toISOString(),
      command,
      machine,
      loadAverageAtEnd: loadavg(),
      settings: { rounds, durationSeconds, warmupSeconds, connections, bodyBytes: events.bodyBytes, pinning },
      summaries,
    };
    const file = `${RESULTS_DIR}throughput-${report.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${RESULTS_DIR}throughput-latest.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nResults: ${file}`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** One signed event must be answered 200 by every target, and a repeat of it as a duplicate by the module. */
async function checkAnswers(server: ServerProcess, events: SignedEventSource): Promise<void> {
  const { body, headers } = events.next();
  const post = async (): Promise<{ status: number; answer: unknown }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}/webhooks/keplars`, { method: 'POST', headers, body });
    return { status: response.status, answer: await response.json() };
  };
  const first = await post();
  if (first.status !== 200) throw new Error(`${server.name} answered ${first.status} ${JSON.stringify(first.answer)} to a valid event`);
  if (runsTheModule(server.target)) {
    const again = await post();
    if ((again.answer as { duplicate?: boolean }).duplicate !== true) throw new Error(`${server.name} did not recognise a duplicate`);
  }
}

function summarise(servers: readonly ServerProcess[], results: ReadonlyMap<ServerProcess, LoadResult[]>): TargetSummary[] {
  const medians = servers.map((server) => {
    const rounds = results.get(server)!;
    return {
      server,
      rounds,
      requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
      p50Ms: median(rounds.map((round) => round.p50Ms)),
      p99Ms: median(rounds.map((round) => round.p99Ms)),
    };
  });
  return medians.map(({ server, ...measured }) => {
    const bare = medians.find((other) => other.server.adapter === server.adapter && other.server.target === 'bare');
    return {
      adapter: server.adapter,
      target: server.target,
      ...measured,
      peakRssBytes: server.peakRssBytes(),
      throughputVsBare: bare ? measured.requestsPerSecond / bare.requestsPerSecond : Number.NaN,
      throughputVsBarePerRound: bare ? median(measured.rounds.map((round, index) => round.requestsPerSecond / bare.rounds[index]!.requestsPerSecond)) : Number.NaN,
      p99VsBare: bare ? measured.p99Ms / bare.p99Ms : Number.NaN,
    };
  });
}

function formatTable(summaries: readonly TargetSummary[]): string {
  const fixed = (value: number, digits: number): string => (Number.isNaN(value) ? '–' : value.toFixed(digits));
  return table(
    ['adapter', 'target', 'req/s', 'x bare', 'spread (min-max req/s)', 'p50 ms', 'p99 ms', 'p99 x bare', 'peak RSS MB', 'SPEC §5 goal (module)'],
    summaries.map((summary) => {
      const perRound = summary.rounds.map((round) => round.requestsPerSecond);
      return [
        summary.adapter,
        summary.target,
        String(Math.round(summary.requestsPerSecond)),
        fixed(summary.throughputVsBare, 2),
        `${Math.round(Math.min(...perRound))}-${Math.round(Math.max(...perRound))}`,
        fixed(summary.p50Ms, 2),
        fixed(summary.p99Ms, 2),
        fixed(summary.p99VsBare, 2),
        fixed(megabytes(summary.peakRssBytes), 0),
        summary.target === 'module' ? `>= ${THROUGHPUT_GOAL[summary.adapter].toFixed(2)}x bare, p99 <= ${P99_GOAL.toFixed(2)}x` : '',
      ];
    }),
  );
}

/** SPEC §5: OpenTelemetry with an SDK exporting costs <= 5 % of `module`; the API alone, nothing measurable. */
const OTEL_SDK_GOAL = 0.95;

function openTelemetryLines(summaries: readonly TargetSummary[]): string[] {
  return summaries.flatMap((summary) => {
    if (summary.target !== 'module-otel-api' && summary.target !== 'module-otel-sdk') return [];
    const plain = summaries.find((other) => other.adapter === summary.adapter && other.target === 'module');
    if (!plain) return [];
    const ratio = summary.requestsPerSecond / plain.requestsPerSecond;
    const perRound = median(summary.rounds.map((round, index) => round.requestsPerSecond / plain.rounds[index]!.requestsPerSecond));
    const p99 = summary.p99Ms / plain.p99Ms;
    const goal =
      summary.target === 'module-otel-sdk'
        ? `goal >= ${OTEL_SDK_GOAL.toFixed(2)}x: ${ratio >= OTEL_SDK_GOAL ? 'MET' : 'NOT MET'}`
        : 'goal: nothing measurable (within the rounds\' spread)';
    return [
      `${summary.adapter}: ${summary.target} ${ratio.toFixed(3)}x module throughput (median of the rounds' own ratios: ${perRound.toFixed(3)}x), ` +
        `p99 ${p99.toFixed(2)}x module; ${goal}`,
    ];
  });
}

function goalLines(summaries: readonly TargetSummary[]): string[] {
  return [...moduleGoalLines(summaries), ...openTelemetryLines(summaries)];
}

function moduleGoalLines(summaries: readonly TargetSummary[]): string[] {
  return summaries
    .filter((summary) => summary.target === 'module' && !Number.isNaN(summary.throughputVsBare))
    .flatMap((summary) => {
      const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
      const goal = THROUGHPUT_GOAL[summary.adapter];
      const guarded = summaries.find((other) => other.adapter === summary.adapter && other.target === 'hmac-guard');
      const ceiling = guarded
        ? [
            `${summary.adapter}: the signature check alone (hmac-guard) ${guarded.throughputVsBare.toFixed(2)}x bare; ` +
              `module ${(summary.requestsPerSecond / guarded.requestsPerSecond).toFixed(2)}x hmac-guard`,
          ]
        : [];
      return [
        ...ceiling,
        `${summary.adapter}: module ${summary.throughputVsBare.toFixed(2)}x bare throughput (goal >= ${goal.toFixed(2)}x): ${verdict(summary.throughputVsBare >= goal)} ` +
          `(median of the rounds' own ratios: ${summary.throughputVsBarePerRound.toFixed(2)}x); ` +
          `p99 ${summary.p99VsBare.toFixed(2)}x bare (goal <= ${P99_GOAL.toFixed(2)}x): ${verdict(summary.p99VsBare <= P99_GOAL)}`,
      ];
    });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
