import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';
import { runBounded } from './support/bounded-pool.js';
import { CapturedLogs } from '../support/captured-logs.js';
import { EveryEventRecorder } from './support/event-recorder.js';
import { describeCase, generateCase, POLLUTION_MARKER, type MalformedCase } from './support/malformed-requests.js';
import { exchange, type ExchangeOutcome } from './support/raw-exchange.js';
import { objectPrototypeSnapshot, Tally } from './support/tally.js';

// SPEC §3, last paragraph: nothing in a request can crash the process, make it hang, leak the secret or
// internal errors, or run a handler for an event whose signature did not verify. Thousands of generated
// malformed requests against a real app over HTTP, from a fixed seed so any failure can be replayed:
//   ROBUSTNESS_SEED=<seed> ROBUSTNESS_CASE=<index> npm run test:robustness
const SECRET = 'whsec_robustness_3f1c9a7e5b20d4c8';
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20260115);
const CASES = Number(process.env.ROBUSTNESS_CASES ?? 10_000);
const ONLY = process.env.ROBUSTNESS_CASE === undefined ? undefined : Number(process.env.ROBUSTNESS_CASE);
/** Also print the statuses of each family of cases. */
const VERBOSE = process.env.ROBUSTNESS_VERBOSE === '1';
const IN_FLIGHT = 24;
/** Long enough for a 2 MiB body on a busy machine; a request unanswered by then counts as a hang. */
const HANG_TIMEOUT_MS = 15_000;
const MAX_FAILURES_SHOWN = 25;

/** Text that must never reach a caller: the secret, stack frames, file paths. */
const LEAKS: readonly [string, RegExp][] = [
  ['the secret', new RegExp(SECRET)],
  ['a stack frame', /\bat [\w.<>]+ \(|\bat (?:file|node):|\n\s+at /],
  ['a file path', /node_modules|file:\/\/|\.[cm]?[jt]s:\d+/],
  ['the project directory', new RegExp(process.cwd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
];

const indexes = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
const report: string[] = [];

afterAll(() => {
  console.log(
    [`Robustness, malformed requests: seed ${SEED}, ${indexes.length} cases per adapter, ${IN_FLIGHT} in flight, hang timeout ${HANG_TIMEOUT_MS / 1000} s`, ...report].join('\n'),
  );
});

describe.each(ADAPTERS)('malformed requests on %s', (adapter: AdapterName) => {
  const logs = new CapturedLogs();
  const prototypeBefore = objectPrototypeSnapshot();
  let app: INestApplication;
  let port: number;
  let recorder: EveryEventRecorder;

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot({ secret: SECRET })], providers: [EveryEventRecorder], logger: logs });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    recorder = app.get(EveryEventRecorder);
  });
  afterAll(async () => {
    await app?.close();
  });

  it(`answers ${indexes.length} malformed requests with a 4xx or a clean close, never a 5xx or a hang, and runs handlers only for correctly signed events`, async () => {
    const started = Date.now();
    const statuses = new Tally();
    const byFamily = new Map<string, Tally>();
    const familyMs = new Tally();
    const failures: string[] = [];
    const fail = (testCase: MalformedCase, outcome: ExchangeOutcome | undefined, why: string) =>
      failures.push(`${describeCase(testCase)}\n    outcome: ${outcome ? outcomeText(outcome) : '-'}\n    failure: ${why}`);
    /** The run keys of correctly signed cases answered 200 (not as duplicates): exactly the handler runs allowed. */
    const expectedRuns = new Map<string, MalformedCase[]>();
    let duplicates = 0;

    await runBounded(indexes.length, IN_FLIGHT, async (position) => {
      const testCase = generateCase(SEED, indexes[position]!, SECRET);
      const sentAt = Date.now();
      const outcome = await exchange(port, testCase.request, HANG_TIMEOUT_MS);
      familyMs.add(testCase.family, Date.now() - sentAt);
      const label = outcome.kind === 'response' ? outcome.status : outcome.kind;
      statuses.add(label);
      if (!byFamily.has(testCase.family)) byFamily.set(testCase.family, new Tally());
      byFamily.get(testCase.family)!.add(label);
      const problem = judge(testCase, outcome);
      if (ONLY !== undefined) report.push(`  ${adapter}: ${describeCase(testCase)}\n    outcome: ${outcomeText(outcome)}`);
      if (problem) fail(testCase, outcome, problem);
      if (outcome.kind === 'response' && outcome.status === 200) {
        if (outcome.body.includes('"duplicate":true')) duplicates++;
        else {
          const key = testCase.runKey();
          if (key === undefined) fail(testCase, outcome, 'answered 200 without being a correctly signed JSON event');
          else expectedRuns.set(key, [...(expectedRuns.get(key) ?? []), testCase]);
        }
      }
    });
    const seconds = (Date.now() - started) / 1000;

    // Every handler run must be one of the allowed ones, once each; no event id ran twice.
    const runs = new Map<string, number>();
    for (const run of recorder.runs) runs.set(run.key, (runs.get(run.key) ?? 0) + 1);
    for (const key of new Set([...runs.keys(), ...expectedRuns.keys()])) {
      const ran = runs.get(key) ?? 0;
      const answered = expectedRuns.get(key) ?? [];
      if (ran !== answered.length) {
        failures.push(
          `a handler ran ${ran} time(s) for a body answered 200 ${answered.length} time(s): ${key.slice(0, 200)}\n    cases: ${answered.map((c) => `#${c.index}`).join(', ') || 'none'}`,
        );
      }
    }
    const ids = new Tally();
    for (const run of recorder.runs) ids.add(run.id);
    const repeated = recorder.runs.filter((run) => ids.get(run.id) > 1).map((run) => run.id);
    if (repeated.length > 0) failures.push(`handlers ran more than once for event ids ${[...new Set(repeated)].slice(0, 10).join(', ')}`);

    // The framework reports, as errors, uploads the client abandoned (our truncated bodies): those are expected.
    const errorLines = logs.lines.filter((line) => line.level === 'error' || line.level === 'fatal');
    const abandoned = errorLines.filter((line) => line.context === 'ExceptionsHandler' && /^Error: aborted\b/.test(line.message));
    const unexpected = errorLines.filter((line) => !abandoned.includes(line));
    if (unexpected.length > 0) failures.push(`the app logged ${unexpected.length} unexpected error(s), first: [${unexpected[0]!.context}] ${unexpected[0]!.message.slice(0, 300)}`);
    if (logs.lines.some((line) => line.message.includes(SECRET))) failures.push('the secret appears in the logs');

    report.push(
      `  ${adapter}: ${indexes.length} requests in ${seconds.toFixed(1)} s; statuses ${statuses}; ` +
        `closed without an answer ${statuses.get('closed')}, hung ${statuses.get('timeout')}; handler runs ${recorder.runs.length} ` +
        `(all for correctly signed events; ${duplicates} more answered as duplicates); framework errors logged for abandoned uploads ${abandoned.length}; ` +
        `failures ${failures.length}`,
    );
    if (VERBOSE) for (const [family, tally] of [...byFamily].sort()) report.push(`    ${family}: ${tally} (${(familyMs.get(family) / tally.total).toFixed(1)} ms each)`);
    if (failures.length > 0) {
      throw new Error(
        `${failures.length} problem(s) on ${adapter} (seed ${SEED}; replay a case with ROBUSTNESS_SEED=${SEED} ROBUSTNESS_CASE=<index> npm run test:robustness):\n\n` +
          failures.slice(0, MAX_FAILURES_SHOWN).join('\n\n'),
      );
    }
    expect(statuses.total).toBe(indexes.length);
    expect(statuses.get('timeout')).toBe(0);
  });

  it('still answers a valid signed event correctly after the storm (no crash)', async () => {
    const payload = buildKeplarsPayload('email.opened');
    const runsBefore = recorder.runs.length;
    const response = await postKeplarsEvent(app, payload, { secret: SECRET });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: true });
    expect(recorder.runs.slice(runsBefore).map((run) => run.id)).toEqual([payload.id]);
  });

  it('left Object.prototype untouched', () => {
    expect(objectPrototypeSnapshot()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>)[POLLUTION_MARKER]).toBeUndefined();
  });
});

/** Why an outcome breaks the case's expectation, or `undefined` when it is right. */
function judge(testCase: MalformedCase, outcome: ExchangeOutcome): string | undefined {
  if (outcome.kind === 'timeout') return 'no answer and no close: a hang';
  if (outcome.kind === 'closed') return testCase.mayClose ? undefined : 'closed without an answer';
  const { status, body } = outcome;
  for (const [what, pattern] of LEAKS) if (pattern.test(body)) return `the answer leaks ${what}`;
  if (status >= 500) return `a ${status}`;
  const { expect } = testCase;
  switch (expect.kind) {
    case 'rejected':
      if (status < 400 || status >= 500) return `answered ${status}, but it is not correctly signed`;
      if (expect.statuses && !expect.statuses.includes(status)) return `answered ${status}, expected ${expect.statuses.join(' or ')}`;
      return undefined;
    case 'handled':
      return status === 200 && body === '{"received":true}' ? undefined : 'expected 200 {"received":true}: a correctly signed, valid, new event';
    case 'signed':
      if (status >= 400) return undefined;
      return status === 200 && /^\{"received":true(,"duplicate":true)?\}$/.test(body) ? undefined : `answered ${status} ${body.slice(0, 80)}`;
  }
}

function outcomeText(outcome: ExchangeOutcome): string {
  return outcome.kind === 'response' ? `${outcome.status} ${outcome.body.slice(0, 200)}` : `${outcome.kind}: ${outcome.detail}`;
}
