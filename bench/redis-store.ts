// `npm run bench:redis-store`: the Redis store alone, without HTTP or Nest: 50 deliveries at a time
// (as the benchmark's 50 connections), each a claim then a settle of a new event, against a
// redis-server of its own on the other core. Prints this process's CPU time per delivery (user and
// system: the socket writes are most of it) for each ioredis setting, the settings taking turns over
// several repetitions. A quick check of a change to the store on a machine too busy for `npm run bench`.
import { Redis, type RedisOptions } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { RedisIdempotencyStore } from '../libs/keplars-webhook/src/adapters/redis-store/redis-idempotency.store.js';
import { BenchRedisServer } from './load/redis-server.js';
import { pinLoadGenerator } from './load/server-process.js';
import { numberOption, parseArguments } from './report/options.js';
import { median, table } from './report/stats.js';

type Store = Pick<RedisIdempotencyStore, 'claim' | 'settle'>;

const CLIENTS: Record<string, RedisOptions> = {
  'one write per call': {},
  // Tried for issue 15 and left off: more CPU per delivery than the system calls it saves (README, Performance).
  'ioredis auto-pipelining': { enableAutoPipelining: true },
};

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const deliveries = numberOption(options, 'deliveries', 20_000);
  const concurrency = numberOption(options, 'concurrency', 50);
  const repetitions = numberOption(options, 'repetitions', 7);

  const pinning = pinLoadGenerator();
  // This process plays the server: on the servers' core; Redis on the other.
  if (pinning.serverCore !== undefined) spawnSync('taskset', ['-a', '-p', '-c', String(pinning.serverCore), String(process.pid)]);
  const redis = await BenchRedisServer.start(pinning);
  const clients = Object.entries(CLIENTS).map(([name, settings]) => {
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...settings });
    return { name, client, store: new RedisIdempotencyStore(client, { keyPrefix: `bench-store:${name}:` }) as Store };
  });
  // --compare <the store's compiled .js of another build>: that version too, for a before/after.
  const other = options.get('compare');
  if (other !== undefined) {
    const { RedisIdempotencyStore: OtherStore } = (await import(other)) as { RedisIdempotencyStore: new (client: Redis, options: object) => Store };
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    clients.push({ name: '--compare build (one write per call)', client, store: new OtherStore(client, { keyPrefix: 'bench-store:other:' }) });
  }
  const timings = new Map<string, number[]>(clients.map(({ name }) => [name, []]));
  let sequence = 0;
  try {
    await Promise.all(clients.map(({ client }) => (client.status === 'ready' ? undefined : new Promise((resolve) => client.once('ready', resolve)))));
    for (let repetition = 0; repetition < repetitions; repetition++) {
      for (const { name, store } of clients) {
        const started = process.cpuUsage();
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < deliveries) {
            next++;
            const id = `evt_${(sequence++).toString(16)}`;
            const claim = await store.claim(id, 30_000);
            if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
            await store.settle(id, claim.token, ['DeliveredHandler.onDelivered'], true, 86_400_000);
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        const used = process.cpuUsage(started);
        timings.get(name)!.push((used.user + used.system) / deliveries);
      }
    }
  } finally {
    clients.forEach(({ client }) => client.disconnect());
    await redis.stop();
  }
  // The first repetition warms the JIT up: left out.
  console.log(`${deliveries} deliveries (claim + settle) per repetition, ${concurrency} at a time, ${repetitions - 1} repetitions; Node ${process.version}`);
  console.log(
    table(
      ['client', 'CPU µs/delivery, best', 'median'],
      [...timings].map(([name, micros]) => [name, Math.min(...micros.slice(1)).toFixed(2), median(micros.slice(1)).toFixed(2)]),
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
