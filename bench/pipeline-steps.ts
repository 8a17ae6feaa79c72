// `npm run bench:steps`: the library's own steps, timed in-process without HTTP or Nest, in µs per
// request: verify the signature, validate, normalise, deliver (memory deduplication, one no-op
// handler). The steps take turns over several repetitions; the fastest of each is printed (on a
// shared machine the other repetitions measure its neighbours more than the code). A quick check of where the module's
// per-request time goes, and of an optimisation's effect, on a machine too busy for the HTTP bench.
import { verifyKeplarsSignature } from '../libs/keplars-webhook/src/core/1-verify/keplars-signature.js';
import { validateKeplarsPayload } from '../libs/keplars-webhook/src/core/2-read/validate-keplars-payload.js';
import type { KeplarsEvent } from '../libs/keplars-webhook/src/core/0-event/keplars-event.js';
import { normalizeKeplarsPayload } from '../libs/keplars-webhook/src/core/3-normalize/normalize-keplars-payload.js';
import { createIdempotencyStore } from '../libs/keplars-webhook/src/nest/module/create-idempotency-store.js';
import { KeplarsEventDelivery } from '../libs/keplars-webhook/src/core/4-deliver/keplars-event-delivery.js';
import { KeplarsHandlerRegistry } from '../libs/keplars-webhook/src/core/4-deliver/keplars-handler-registry.js';
import { resolveKeplarsOptions } from '../libs/keplars-webhook/src/nest/options/resolve-keplars-options.js';
import { BENCH_SECRET } from './bench-config.js';
import { SignedEventSource } from './load/signed-events.js';
import { numberOption, parseArguments } from './report/options.js';
import { median, table } from './report/stats.js';

interface Request {
  readonly rawBody: Buffer;
  readonly signature: string;
  readonly parsed: Record<string, unknown>;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const count = numberOption(options, 'requests', 50_000);
  const repetitions = numberOption(options, 'repetitions', 11);
  const resolved = resolveKeplarsOptions({ secret: BENCH_SECRET });
  const { windowMs, derivedIdWindowMs, lockMs } = resolved.deduplication!;

  const source = new SignedEventSource();
  const requests: Request[] = Array.from({ length: count }, () => {
    const { body, headers } = source.next();
    return { rawBody: Buffer.from(body), signature: headers['x-keplars-signature']!, parsed: JSON.parse(body) };
  });
  const events: KeplarsEvent[] = [];

  const steps: Record<string, () => unknown> = {
    'JSON.parse (framework, for scale)': () => requests.forEach((request) => JSON.parse(request.rawBody.toString('utf8'))),
    'verify signature': () =>
      requests.forEach((request) => {
        if (verifyKeplarsSignature({ rawBody: request.rawBody, signature: request.signature, secrets: resolved.secrets }) !== undefined) throw new Error('bad signature');
      }),
    validate: () =>
      requests.forEach((request) => {
        if (!validateKeplarsPayload(request.parsed).valid) throw new Error('invalid payload');
      }),
    normalise: () => {
      events.length = 0;
      for (const request of requests) events.push(normalizeKeplarsPayload(request.parsed as never));
    },
    'deliver (dedup + dispatch)': async () => {
      // A fresh store each time, so that every event is new to it, as in the HTTP benchmark.
      const store = await createIdempotencyStore(resolved.deduplication!, console); // the module's default: memory, its maxEvents
      const delivery = new KeplarsEventDelivery(registry, store, { windowMs, derivedIdWindowMs, lockMs });
      for (const event of events) {
        if ((await delivery.deliver(event)).kind !== 'handled') throw new Error('not handled');
      }
    },
  };
  const registry = new KeplarsHandlerRegistry();
  registry.add({ name: 'DeliveredHandler.onDelivered', patterns: ['email.delivered'], invoke: () => undefined });

  const timings = new Map<string, number[]>(Object.keys(steps).map((name) => [name, []]));
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const [name, step] of Object.entries(steps)) {
      const started = process.hrtime.bigint();
      await step();
      timings.get(name)!.push(Number(process.hrtime.bigint() - started) / 1000 / count);
    }
  }
  // The first repetition warms the JIT up: left out.
  const best = (micros: readonly number[]): number => Math.min(...micros.slice(1));
  const rows = [...timings].map(([name, micros]) => [name, best(micros).toFixed(2), median(micros.slice(1)).toFixed(2)]);
  const library = (pick: (micros: readonly number[]) => number): string =>
    [...timings]
      .filter(([name]) => !name.includes('for scale'))
      .reduce((sum, [, micros]) => sum + pick(micros), 0)
      .toFixed(2);
  console.log(`${count} distinct signed events of ${requests[0]!.rawBody.length} B, ${repetitions - 1} repetitions; Node ${process.version}`);
  console.log(table(['step', 'µs/request, best', 'median'], [...rows, ['library steps, total', library(best), library((micros) => median(micros.slice(1)))]]));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
