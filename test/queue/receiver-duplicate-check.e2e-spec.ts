import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisIdempotencyStore } from 'nestjs-keplars-webhook';
import type { QueuedDelivery } from '../../libs/keplars-webhook/src/core/ports/queued-delivery.js';
import { KeplarsDeliveryQueue, KeplarsQueueUnavailableError, type HandledMarkOf } from '../../libs/keplars-webhook/src/adapters/bullmq-queue/keplars-delivery-queue.js';
import { deleteKeys, OwnRedisServer, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';

// Issue 12: a receiver's duplicate check ("is the job in Redis, or the event handled?") and its write,
// on real Redis and real BullMQ, in each of its three ways: one script that also reads the store's
// mark (the Redis store on the queue's Redis), the script plus the store's own isHandled (a store
// elsewhere), and one delivery at a time (a Cluster, where the keys may live on several nodes).
type Way = 'mark in the script' | 'store asked apart' | 'one at a time (Cluster)';
const WAYS: readonly Way[] = ['mark in the script', 'store asked apart', 'one at a time (Cluster)'];

let sequence = 0;
const delivery = (eventId?: string): QueuedDelivery => ({
  body: '{}',
  bodyEncoding: 'utf8',
  headers: {},
  receivedAt: Date.now(),
  ...(eventId !== undefined && { eventId, type: 'email.opened' }),
});

describe.each(WAYS)('a receiver\'s duplicate check, %s', (way) => {
  const prefix = uniqueKeyPrefix('receiver-check').slice(0, -1);
  let close: () => Promise<void>;
  let store: RedisIdempotencyStore;
  let queue: Queue;
  let receiver: KeplarsDeliveryQueue;

  async function open(url: string, timeoutMs = 2000): Promise<{ store: RedisIdempotencyStore; queue: Queue; receiver: KeplarsDeliveryQueue; connection: Redis; close: () => Promise<void> }> {
    // A receiver's settings (queue-connections.ts): no offline queue, so a call fails at once while Redis is away.
    const connection = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    connection.on('error', () => undefined);
    if (way === 'one at a time (Cluster)') Object.defineProperty(connection, 'isCluster', { value: true });
    const storeClient = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    storeClient.on('error', () => undefined);
    await Promise.all([connection.connect(), storeClient.connect()]);
    const store = new RedisIdempotencyStore(storeClient, { keyPrefix: `${prefix}:dedup:` }, true);
    const queue = new Queue('keplars-webhook', { connection, prefix });
    queue.on('error', () => undefined);
    const markOf: HandledMarkOf | undefined = way === 'mark in the script' ? (key) => store.handledMark(key) : undefined;
    const close = async (): Promise<void> => {
      await queue.close().catch(() => undefined);
      await store.close();
      await connection.quit().catch(() => connection.disconnect());
    };
    return { store, queue, receiver: new KeplarsDeliveryQueue(queue, [], connection, store, timeoutMs, markOf), connection, close };
  }

  async function markHandled(eventId: string): Promise<void> {
    const claim = await store.claim(eventId, 1000);
    if (claim.state !== 'claimed') throw new Error(`could not claim ${eventId}: ${claim.state}`);
    await store.settle(eventId, claim.token, ['a'], true, 60_000);
  }

  const jobCount = async (): Promise<number> => Object.values(await queue.getJobCounts()).reduce((sum, count) => sum + count, 0);

  beforeAll(async () => {
    ({ store, queue, receiver, close } = await open(REDIS_URL));
  });
  afterAll(async () => {
    const cleaner = new Redis(REDIS_URL);
    await deleteKeys(cleaner, prefix);
    await cleaner.quit();
    await close();
  });

  it('queues a new event, then answers a redelivery of it while its job is in Redis "duplicate"', async () => {
    const id = `evt_new_${++sequence}`;
    const before = await jobCount();
    expect(await receiver.write(delivery(id), id, 'email.opened')).toBe('queued');
    expect(await receiver.write(delivery(id), id, 'email.opened')).toBe('duplicate');
    expect(await jobCount()).toBe(before + 1);
    expect((await queue.getJob(id))?.data.eventId).toBe(id);
  });

  it('answers "duplicate" to an event handled within the window whose job is gone, and queues nothing', async () => {
    const id = `evt_handled_${++sequence}`;
    await markHandled(id);
    const before = await jobCount();
    expect(await receiver.write(delivery(id), id, 'email.opened')).toBe('duplicate');
    expect(await queue.getJob(id)).toBeUndefined();
    expect(await jobCount()).toBe(before);
  });

  it('makes one job of copies racing each other (one turn, and turns apart); no copy is refused', async () => {
    const id = `evt_race_${++sequence}`;
    const before = await jobCount();
    const sameTurn = await Promise.all(Array.from({ length: 5 }, () => receiver.write(delivery(id), id, 'email.opened')));
    expect(sameTurn.filter((write) => write === 'queued').length).toBeGreaterThanOrEqual(1);
    if (way !== 'one at a time (Cluster)') expect(sameTurn.filter((write) => write === 'queued')).toHaveLength(1); // one batch: its twins wait for it

    const other = `evt_race_${++sequence}`;
    const apart = await Promise.all(
      Array.from({ length: 5 }, (_, index) => new Promise((resolve) => setTimeout(resolve, index)).then(() => receiver.write(delivery(other), other, 'email.opened'))),
    );
    expect(apart).toContain('queued');
    expect(await jobCount()).toBe(before + 2);
  });

  it('checks each delivery of one batch on its own: new, queued, handled, unreadable (no event id) side by side', async () => {
    const [fresh, queued, handled] = [`evt_mix_${++sequence}`, `evt_mix_${++sequence}`, `evt_mix_${++sequence}`];
    await receiver.write(delivery(queued), queued, 'email.opened');
    await markHandled(handled);
    const unreadableId = `unreadable_${++sequence}`;
    const writes = await Promise.all([
      receiver.write(delivery(fresh), fresh, 'email.opened'),
      receiver.write(delivery(queued), queued, 'email.opened'),
      receiver.write(delivery(handled), handled, 'email.opened'),
      receiver.write(delivery(), unreadableId, 'unreadable'),
      receiver.write(delivery(), unreadableId, 'unreadable'),
    ]);
    expect(writes.slice(0, 3)).toEqual(['queued', 'duplicate', 'duplicate']);
    // Two copies of one id in one batch: the second waits for the first's write (one at a time, both race to BullMQ's add).
    expect(writes.slice(3).sort()).toEqual(way === 'one at a time (Cluster)' ? ['queued', 'queued'] : ['duplicate', 'queued']);
    expect(await queue.getJob(handled)).toBeUndefined();
    expect(await queue.getJob(unreadableId)).toBeDefined();
  });

  // Issue 26: under load, batches grow instead of multiplying (each costs a round trip for the check
  // and a BullMQ pipeline, which copies every script of the connection onto itself).
  (way === 'one at a time (Cluster)' ? it.skip : it)('sends the writes asked for while a batch is being written together, as the next batch', async () => {
    const server = await OwnRedisServer.start();
    const pauser = new Redis(server.url);
    let own: Awaited<ReturnType<typeof open>> | undefined;
    try {
      own = await open(server.url);
      const warm = `evt_warm_${++sequence}`;
      expect(await own.receiver.write(delivery(warm), warm, 'email.opened')).toBe('queued');
      let pipelines = 0; // BullMQ's addBulk opens one pipeline on the connection per batch
      const pipeline = own.connection.pipeline.bind(own.connection);
      own.connection.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
        pipelines++;
        return pipeline(...args);
      }) as Redis['pipeline'];

      await pauser.call('CLIENT', 'PAUSE', '300', 'ALL'); // the first two batches stay in flight for 300 ms
      const ids = [1, 2, 3, 4, 5, 6].map(() => `evt_batch_${++sequence}`);
      const writes: Promise<string>[] = [];
      for (const id of ids) {
        writes.push(own.receiver.write(delivery(id), id, 'email.opened'));
        await new Promise((resolve) => setTimeout(resolve, 20)); // each in a turn of its own
      }
      expect(await Promise.all(writes)).toEqual(ids.map(() => 'queued'));
      expect(pipelines).toBe(3); // the first two writes alone (two batches in flight at most), then the four that came meanwhile
    } finally {
      await own?.close();
      pauser.disconnect();
      await server.stop();
    }
  }, 30_000);

  it('rejects every write of a batch while Redis is down (503), writing nothing; writes again once it is back', async () => {
    const server = await OwnRedisServer.start();
    try {
      const own = await open(server.url, 500);
      const up = `evt_up_${++sequence}`;
      expect(await own.receiver.write(delivery(up), up, 'email.opened')).toBe('queued');

      await server.stop();
      const ids = [1, 2, 3].map(() => `evt_down_${++sequence}`);
      const writes = await Promise.allSettled(ids.map((id) => own.receiver.write(delivery(id), id, 'email.opened')));
      for (const write of writes) {
        expect(write.status).toBe('rejected');
        expect((write as PromiseRejectedResult).reason).toBeInstanceOf(KeplarsQueueUnavailableError);
      }

      await server.start();
      const probe = new Redis(server.url);
      for (const id of ids) expect(await probe.exists(own.queue.toKey(id))).toBe(0); // nothing half-written
      await probe.quit();
      let answer: string | undefined;
      for (let attempt = 0; attempt < 100 && answer === undefined; attempt++) {
        answer = await own.receiver.write(delivery(ids[0]), ids[0]!, 'email.opened').catch(() => undefined);
        if (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(answer).toBe('queued');
      await own.close();
    } finally {
      await server.stop();
    }
  }, 30_000);
});
