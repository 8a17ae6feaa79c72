// `npm run bench:memory-store`: pushes a million distinct event ids through the default deduplication
// store (claim, then settle as complete, as a delivery does) and prints the process's memory before and
// after. Run by the script with --expose-gc, so the figures are of live memory, not of garbage.
import { createIdempotencyStore } from '../libs/keplars-webhook/src/nest/module/create-idempotency-store.js';
import { resolveKeplarsOptions } from '../libs/keplars-webhook/src/nest/options/resolve-keplars-options.js';
import { numberOption, parseArguments } from './report/options.js';
import { megabytes, table } from './report/stats.js';

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const events = numberOption(options, 'events', 1_000_000);
  const maxEvents = options.has('max-events') ? numberOption(options, 'max-events', 0) : undefined;
  // The module's own defaults (store: 'memory', its window, lock and maxEvents), as forRoot(secret) gets them.
  const { deduplication } = resolveKeplarsOptions({ secret: 'unused', deduplication: maxEvents === undefined ? {} : { maxEvents } });
  const { windowMs, lockMs } = deduplication!;
  const store = await createIdempotencyStore(deduplication!, console);

  const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => console.warn('run with --expose-gc for figures without garbage'));
  const snapshot = (label: string): string[] => {
    collect();
    const { rss, heapUsed, external } = process.memoryUsage();
    return [label, megabytes(rss).toFixed(1), megabytes(heapUsed).toFixed(1), megabytes(external).toFixed(1)];
  };

  // Ids as the server sees them: strings JSON.parse made, one per event, like `evt_…` from Keplars.
  const idOf = (index: number): string => JSON.parse(`"evt_${index.toString(16).padStart(16, '0')}"`) as string;
  const before = snapshot('before');
  const started = performance.now();
  for (let index = 0; index < events; index++) {
    const eventId = idOf(index);
    const claim = await store.claim(eventId, lockMs);
    if (claim.state !== 'claimed') throw new Error(`event ${eventId} was not claimable: ${claim.state}`);
    await store.settle(eventId, claim.token, [], true, windowMs);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = snapshot(`after ${events.toLocaleString('en')} events`);

  const last = await store.claim(idOf(events - 1), lockMs);
  const first = await store.claim(idOf(0), lockMs);
  console.log(`MemoryIdempotencyStore, maxEvents ${deduplication!.store.kind === 'memory' ? deduplication!.store.maxEvents : '?'}, window ${windowMs / 1000} s; Node ${process.version}`);
  console.log(table(['', 'rss MB', 'heapUsed MB', 'external MB'], [before, after]));
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB; ${Math.round(events / seconds).toLocaleString('en')} claim+settle a second`);
  console.log(`the last event is remembered (${last.state}), the first was forgotten to stay within maxEvents (${first.state})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
