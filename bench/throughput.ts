// `npm run bench`: bare vs handwritten vs this module (memory and Redis stores), on Express and on
// Fastify (SPEC §5), each as a ratio of `bare` and of `hmac-guard` (bare behind the signature check
// alone: the ceiling of any receiver that verifies, and what the goals are ratios of). Every server
// runs in its own process pinned to core 0; the load generator (this process) and the benchmark's own
// Redis server on core 1. The targets take turns within each round; the table reports the medians over
// the rounds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ADAPTERS, BASELINE, CEILING, goalOf, POSTGRES_SCHEMA_ENV, POSTGRES_URL_ENV, REDIS_URL_ENV, TARGETS, traitsOf, type AdapterName, type TargetName } from './bench-config.js';
import { BenchRedisServer } from './load/redis-server.js';
import { benchPostgres } from './load/postgres-database.js';
import { runLoad, type LoadResult } from './load/run-load.js';
import { pinLoadGenerator, ServerProcess } from './load/server-process.js';
import { SignedEventSource } from './load/signed-events.js';
import { defaultStoreCapacity } from './load/store-capacity.js';
import { describeMachine, machineLine } from './report/machine.js';
import { listOption, numberOption, parseArguments } from './report/options.js';
import { median, megabytes, table } from './report/stats.js';

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
  readonly vsBare: Ratios;
  readonly vsCeiling: Ratios;
}

/** A target's figures divided by those of a reference target on the same adapter (NaN without it). */
interface Ratios {
  readonly throughput: number;
  /** The median of each round's own ratio (the targets of one round run close in time: a check on drift). */
  readonly throughputPerRound: number;
  readonly p99: number;
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

  const redisUrl = options.get('redis-url');
  const storeCapacity = defaultStoreCapacity();
  const machine = describeMachine();
  const pinning = pinLoadGenerator();
  const needsRedis = targets.some((target) => traitsOf(target).needsRedis);
  const events = new SignedEventSource();
  // The ledger's target is sent many emails' lifecycles (its own ids: no target ever sees an id twice).
  const manyEmails = targets.some((target) => traitsOf(target).emails === 'many') ? new SignedEventSource('many') : undefined;
  const eventsFor = (target: TargetName): SignedEventSource => (traitsOf(target).emails === 'many' ? manyEmails! : events);
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Command: ${command}`);
  console.log(
    `Load: autocannon, ${connections} connections, distinct signed events of ${events.bodyBytes} B (signed before each run; one id sequence for the whole run, so no target ever sees an id twice), ` +
      `${rounds} rounds x ${durationSeconds} s per target after a ${warmupSeconds} s warm-up (module: and ${storeCapacity} events, to fill its store); ` +
      (manyEmails ? `${targets.filter((target) => traitsOf(target).emails === 'many').join(', ')}: the interleaved lifecycles of many emails instead (queued, sent, delivered, opens, clicks, bounces; ${manyEmails.bodyBytes} B on average); ` : '') +
      (pinning.serverCore === undefined ? 'NOT pinned (no taskset or one core)' : `servers on core ${pinning.serverCore}, load on core ${pinning.loadCore}`),
  );
  if (needsRedis) console.log(`Redis: ${redisUrl ?? `a redis-server of the benchmark's own${pinning.loadCore === undefined ? '' : `, on core ${pinning.loadCore}`}`}`);
  const postgres = targets.some((target) => traitsOf(target).needsPostgres) ? benchPostgres() : undefined;
  if (postgres) console.log(`Postgres: the machine's server at ${postgres.url} (not pinned), schema ${postgres.schema} for this run (dropped at the end)`);

  const servers: ServerProcess[] = [];
  let redis: BenchRedisServer | undefined;
  try {
    if (needsRedis && redisUrl === undefined) redis = await BenchRedisServer.start(pinning);
    const env = { [REDIS_URL_ENV]: redisUrl ?? redis?.url ?? '', ...(postgres ? { [POSTGRES_URL_ENV]: postgres.url, [POSTGRES_SCHEMA_ENV]: postgres.schema } : {}) };
    for (const adapter of adapters) {
      for (const target of targets) servers.push(await ServerProcess.start(target, adapter, pinning, env));
    }
    for (const server of servers) await checkAnswers(server, eventsFor(server.target));

    // The fastest rate seen of each server sizes the events signed before its next run.
    const fastest = new Map<ServerProcess, number>();
    const prepareFor = (server: ServerProcess): number => Math.ceil((fastest.get(server) ?? 0) * PREPARE_MARGIN * durationSeconds);
    const measure = async (server: ServerProcess, seconds: number, amount?: number): Promise<LoadResult> => {
      const length = amount === undefined ? { durationSeconds: seconds, prepare: prepareFor(server) } : { amount, prepare: amount };
      const result = await runLoad({ port: server.port, events: eventsFor(server.target), connections, ...length });
      fastest.set(server, Math.max(fastest.get(server) ?? 0, result.requestsPerSecond));
      return result;
    };

    for (const server of servers) {
      process.stdout.write(`warm-up ${server.name}… `);
      await measure(server, warmupSeconds / 2);
      // The module is measured in its steady state: a deduplication store already full, evicting.
      const warm = await measure(server, warmupSeconds / 2, traitsOf(server.target).fillsMemoryStore ? storeCapacity : undefined);
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
      settings: { rounds, durationSeconds, warmupSeconds, connections, bodyBytes: events.bodyBytes, ...(manyEmails ? { manyEmailsBodyBytes: manyEmails.bodyBytes } : {}), pinning },
      summaries,
    };
    const file = `${RESULTS_DIR}throughput-${report.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${RESULTS_DIR}throughput-latest.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nResults: ${file}`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
    await postgres?.drop();
  }
}

/** One signed event must be answered 200 by every target, and a repeat of it as a duplicate by the module's. */
async function checkAnswers(server: ServerProcess, events: SignedEventSource): Promise<void> {
  const { body, headers } = events.next();
  const post = async (): Promise<{ status: number; answer: unknown }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}/webhooks/keplars`, { method: 'POST', headers, body });
    return { status: response.status, answer: await response.json() };
  };
  const first = await post();
  if (first.status !== 200) throw new Error(`${server.name} answered ${first.status} ${JSON.stringify(first.answer)} to a valid event`);
  if (traitsOf(server.target).deduplicates) {
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
  type Measured = (typeof medians)[number];
  const ratios = (measured: Measured, reference: TargetName): Ratios => {
    const other = medians.find((candidate) => candidate.server.adapter === measured.server.adapter && candidate.server.target === reference);
    if (other === undefined) return { throughput: Number.NaN, throughputPerRound: Number.NaN, p99: Number.NaN };
    return {
      throughput: measured.requestsPerSecond / other.requestsPerSecond,
      throughputPerRound: median(measured.rounds.map((round, index) => round.requestsPerSecond / other.rounds[index]!.requestsPerSecond)),
      p99: measured.p99Ms / other.p99Ms,
    };
  };
  return medians.map((measured) => ({
    adapter: measured.server.adapter,
    target: measured.server.target,
    rounds: measured.rounds,
    requestsPerSecond: measured.requestsPerSecond,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    peakRssBytes: measured.server.peakRssBytes(),
    vsBare: ratios(measured, BASELINE),
    vsCeiling: ratios(measured, CEILING),
  }));
}

const fixed = (value: number, digits: number): string => (Number.isNaN(value) ? '–' : value.toFixed(digits));

function formatTable(summaries: readonly TargetSummary[]): string {
  return table(
    [
      'adapter',
      'target',
      'req/s',
      `x ${BASELINE}`,
      `x ${CEILING}`,
      'spread (min-max req/s)',
      'p50 ms',
      'p99 ms',
      `p99 x ${BASELINE}`,
      `p99 x ${CEILING}`,
      'peak RSS MB',
      `SPEC §5 goal (x ${CEILING})`,
    ],
    summaries.map((summary) => {
      const perRound = summary.rounds.map((round) => round.requestsPerSecond);
      const goal = goalOf(summary.target, summary.adapter);
      return [
        summary.adapter,
        summary.target,
        String(Math.round(summary.requestsPerSecond)),
        fixed(summary.vsBare.throughput, 2),
        fixed(summary.vsCeiling.throughput, 2),
        `${Math.round(Math.min(...perRound))}-${Math.round(Math.max(...perRound))}`,
        fixed(summary.p50Ms, 2),
        fixed(summary.p99Ms, 2),
        fixed(summary.vsBare.p99, 2),
        fixed(summary.vsCeiling.p99, 2),
        fixed(megabytes(summary.peakRssBytes), 0),
        goal ? `>= ${goal.throughput.toFixed(2)}x, p99 <= ${goal.p99.toFixed(2)}x` : '',
      ];
    }),
  );
}

/** One line per target with a goal: met or not, against hmac-guard, with bare for scale; then targets compared with another. */
function goalLines(summaries: readonly TargetSummary[]): string[] {
  return [...ceilingGoalLines(summaries), ...comparisonLines(summaries)];
}

const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function ceilingGoalLines(summaries: readonly TargetSummary[]): string[] {
  return summaries.flatMap((summary) => {
    const goal = goalOf(summary.target, summary.adapter);
    if (goal === undefined || Number.isNaN(summary.vsCeiling.throughput)) return [];
    const { throughput, throughputPerRound, p99 } = summary.vsCeiling;
    return [
      `${summary.adapter}: ${summary.target} ${throughput.toFixed(2)}x ${CEILING} throughput (goal >= ${goal.throughput.toFixed(2)}x): ${verdict(throughput >= goal.throughput)} ` +
        `(median of the rounds' own ratios: ${throughputPerRound.toFixed(2)}x); p99 ${p99.toFixed(2)}x ${CEILING} (goal <= ${goal.p99.toFixed(2)}x): ${verdict(p99 <= goal.p99)}; ` +
        `${fixed(summary.vsBare.throughput, 2)}x ${BASELINE}`,
    ];
  });
}

/** SPEC §5 on OpenTelemetry: with an SDK exporting it costs <= 5 % of `module`; the API alone, nothing measurable. */
function comparisonLines(summaries: readonly TargetSummary[]): string[] {
  return summaries.flatMap((summary) => {
    const comparedWith = traitsOf(summary.target).comparedWith;
    const plain = comparedWith && summaries.find((other) => other.adapter === summary.adapter && other.target === comparedWith.target);
    if (!comparedWith || !plain) return [];
    const ratio = summary.requestsPerSecond / plain.requestsPerSecond;
    const perRound = median(summary.rounds.map((round, index) => round.requestsPerSecond / plain.rounds[index]!.requestsPerSecond));
    const p99 = summary.p99Ms / plain.p99Ms;
    const goal = comparedWith.goal === undefined ? `goal: ${comparedWith.note}` : `goal ${comparedWith.note}: ${verdict(ratio >= comparedWith.goal)}`;
    return [
      `${summary.adapter}: ${summary.target} ${ratio.toFixed(3)}x ${plain.target} throughput (median of the rounds' own ratios: ${perRound.toFixed(3)}x), ` +
        `p99 ${p99.toFixed(2)}x ${plain.target}; ${goal}`,
    ];
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
