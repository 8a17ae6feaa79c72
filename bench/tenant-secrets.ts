// `npm run bench:tenants [-- --adapter express|fastify --pairs 2000 --tenants 1000 --concurrency 8 --lookup-ms 2]`
//
// Two questions about a tenant route (SPEC §7), against a real server in its own process:
//
// 1. Can a caller tell an unknown tenant from a known one by the time the 401 takes? Requests for an
//    unknown tenant and for a known tenant with a wrong signature are sent one at a time, interleaved
//    in random order, and their latencies compared with a Mann-Whitney U test and the difference of
//    medians (bootstrap 95 % interval). A control compares two known tenants the same way: it shows
//    what "no difference" looks like on this machine. Warm (both answers cached) and cold (each
//    tenant's first request, so the resolver runs for both).
// 2. What does the secret cache do? Each of `--tenants` tenants gets `--concurrency` signed requests
//    at the same moment, with a cold cache, then again with a warm one; the resolver's calls per
//    tenant are counted by the server, and p50/p99 latency is compared with a static-secret route
//    beside it under the same load (the added latency).
//
// A statistical check, not a timing threshold: it prints what it measured and what it concludes.
import { Agent, request } from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildKeplarsPayload, keplarsSignatureHeaders } from '../libs/keplars-webhook/src/testing/index.js';
import { describeMachine, machineLine } from './report/machine.js';
import { numberOption, parseArguments } from './report/options.js';
import { table } from './report/stats.js';
import { mannWhitneyU, medianDifference, quantile } from './tenants/statistics.js';
import { benchTenant, benchTenantSecret, STATIC_PATH, STATIC_SECRET } from './tenants/tenant-bench-config.js';

const SERVER = fileURLToPath(new URL('./tenants/tenant-server.js', import.meta.url));

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

class Client {
  constructor(
    private readonly port: number,
    private readonly agent: Agent,
  ) {}

  /** Posts a fresh signed event to `path`, signed with `secret`; the time is from sending to the last byte. */
  post(path: string, secret: string): Promise<Answer> {
    const body = JSON.stringify(buildKeplarsPayload('email.delivered'));
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...keplarsSignatureHeaders(body, secret) };
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const outgoing = request({ host: '127.0.0.1', port: this.port, path, method: 'POST', headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  async get(path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      })
        .on('error', reject)
        .end();
    });
  }
}

const tenantPath = (tenant: string) => `/webhooks/keplars/${encodeURIComponent(tenant)}`;
const WRONG_SECRET = 'whsec_not_the_right_one';

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const µs = (ms: number) => (Math.abs(ms) >= 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms * 1000)} µs`);

function comparison(label: string, a: readonly number[], b: readonly number[]): string[] {
  const test = mannWhitneyU(a, b);
  const difference = medianDifference(a, b);
  return [label, µs(quantile(a, 0.5)), µs(quantile(b, 0.5)), `${µs(difference.estimate)} [${µs(difference.low)}, ${µs(difference.high)}]`, test.p.toFixed(3), test.probabilityOfSuperiority.toFixed(3)];
}

/** Question 1: unknown tenant vs known tenant with a wrong signature, interleaved one request at a time. */
async function timingOfRefusals(client: Client, pairs: number, tenants: number): Promise<string> {
  const known = benchTenant(0);
  const other = benchTenant(1);
  const unknown = 'tenant_that_does_not_exist';
  const bodies = new Set<string>();
  // Warm: cache both answers, and let the JIT settle.
  for (let i = 0; i < 300; i++) for (const tenant of shuffled([known, other, unknown])) bodies.add(`${(await client.post(tenantPath(tenant), WRONG_SECRET)).status}`);
  const samples: Record<'unknown' | 'known' | 'control', number[]> = { unknown: [], known: [], control: [] };
  for (let i = 0; i < pairs; i++) {
    for (const [kind, tenant] of shuffled([['unknown', unknown], ['known', known], ['control', other]] as const)) {
      const answer = await client.post(tenantPath(tenant), WRONG_SECRET);
      bodies.add(`${answer.status} ${answer.body}`);
      samples[kind].push(answer.ms);
    }
  }
  // Cold: each tenant's first request, so both wait for the resolver.
  const cold: Record<'unknown' | 'known', number[]> = { unknown: [], known: [] };
  const coldCount = Math.min(Math.floor(tenants / 2), 400);
  for (let i = 0; i < coldCount; i++) {
    for (const [kind, tenant] of shuffled([['unknown', `ghost_${i}`], ['known', benchTenant(tenants - 1 - i)]] as const)) {
      const answer = await client.post(tenantPath(tenant), WRONG_SECRET);
      bodies.add(`${answer.status} ${answer.body}`);
      cold[kind].push(answer.ms);
    }
  }
  const answers = [...bodies].filter((body) => body.includes(' '));
  return [
    table(
      ['comparison (401s, one at a time, interleaved)', 'median A', 'median B', 'A − B [95 % CI]', 'Mann-Whitney p', 'P(A > B)'],
      [
        comparison(`warm: A unknown tenant vs B known tenant, wrong signature (${pairs} each)`, samples.unknown, samples.known),
        comparison(`warm control: A another known tenant vs B the known tenant (${pairs} each)`, samples.control, samples.known),
        comparison(`cold: A unknown tenant vs B known tenant, first request each (${coldCount} each)`, cold.unknown, cold.known),
      ],
    ),
    `Distinct answers seen: ${answers.length} (${answers.join(' | ')})`,
  ].join('\n\n');
}

/** Question 2: the cache under concurrent load, against a static-secret route under the same load. */
async function cacheBehaviour(client: Client, tenants: number, concurrency: number): Promise<string> {
  const first = 2; // tenants 0 and 1 served question 1
  const indices = Array.from({ length: Math.min(tenants - first, 1000) }, (_, i) => first + i);
  const groupSize = 10; // tenants at once, each with `concurrency` requests arriving together
  const round = async (send: (index: number) => Promise<Answer>): Promise<number[]> => {
    const times: number[] = [];
    for (let start = 0; start < indices.length; start += groupSize) {
      const group = indices.slice(start, start + groupSize);
      const answers = await Promise.all(group.flatMap((index) => Array.from({ length: concurrency }, () => send(index))));
      for (const answer of answers) {
        if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status} ${answer.body}`);
        times.push(answer.ms);
      }
    }
    return times;
  };
  const toStatic = () => client.post(STATIC_PATH, STATIC_SECRET);
  const toTenant = (index: number) => client.post(tenantPath(benchTenant(index)), benchTenantSecret(index));

  await round(toStatic); // warm-up of the server and the client
  const staticBefore = await round(toStatic);
  const cold = await round(toTenant);
  const callsAfterCold = (await client.get('/bench/resolver-calls')) as Record<string, number>;
  const warm = await round(toTenant);
  const callsAfterWarm = (await client.get('/bench/resolver-calls')) as Record<string, number>;
  const staticAfter = await round(toStatic);
  const baseline = [...staticBefore, ...staticAfter];

  const calls = (seen: Record<string, number>) => {
    const counts = indices.map((index) => seen[benchTenant(index)] ?? 0);
    return `${Math.min(...counts)}–${Math.max(...counts)} (total ${counts.reduce((sum, count) => sum + count, 0)} for ${counts.length} tenants)`;
  };
  const row = (label: string, times: readonly number[], callsSeen: string) => {
    const [p50, p99] = [quantile(times, 0.5), quantile(times, 0.99)];
    return [label, String(times.length), µs(p50), µs(p99), µs(p50 - quantile(baseline, 0.5)), µs(p99 - quantile(baseline, 0.99)), callsSeen];
  };
  return table(
    ['route', 'requests', 'p50', 'p99', 'added p50', 'added p99', 'resolver calls per tenant'],
    [
      row('static secret (baseline, before and after)', baseline, '—'),
      row(`tenant route, cold cache (${concurrency} concurrent requests per tenant)`, cold, calls(callsAfterCold)),
      row('tenant route, warm cache (same load again)', warm, calls(callsAfterWarm)),
    ],
  );
}

async function startServer(adapter: string, tenants: number, lookupMs: number): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [SERVER, adapter, String(tenants), String(lookupMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
    lines.on('line', (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready) resolve(Number(ready[1]));
    });
  });
  return { port, stop: () => child.kill('SIGINT') };
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const adapter = options.get('adapter') ?? 'express';
  const pairs = numberOption(options, 'pairs', 2000);
  const tenants = numberOption(options, 'tenants', 1000) + 2;
  const concurrency = numberOption(options, 'concurrency', 8);
  const lookupMs = numberOption(options, 'lookup-ms', 2);
  const server = await startServer(adapter, tenants, lookupMs);
  try {
    const sequential = new Client(server.port, new Agent({ keepAlive: true, maxSockets: 1 }));
    const concurrent = new Client(server.port, new Agent({ keepAlive: true, maxSockets: 10 * concurrency }));
    process.stdout.write(`# Tenant route benchmark (${adapter}, resolver lookup ${lookupMs} ms, ${machineLine(describeMachine())})\n\n`);
    process.stdout.write(`## 1. Is an unknown tenant's 401 distinguishable by its timing?\n\n${await timingOfRefusals(sequential, pairs, tenants)}\n\n`);
    process.stdout.write(`## 2. The secret cache under concurrent load\n\n${await cacheBehaviour(concurrent, tenants, concurrency)}\n`);
  } finally {
    server.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
