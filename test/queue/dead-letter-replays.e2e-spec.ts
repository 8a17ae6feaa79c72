import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsDeadLetters, KeplarsWebhookModule, type KeplarsQueueOptions } from 'nestjs-keplars-webhook';
import { postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { createWebhookApp } from '../support/webhook-app.js';

// Issue 23, point 3: replays of one dead letter racing each other (in one process and in two): one
// puts it back in the queue, the others find it gone and say so (false), none rejects with BullMQ's
// "is not in the failed state".
const SECRET = 'whsec_replays';
const LETTERS = 5;
const AT_ONCE = 4;

describe('concurrent replays of one dead letter', () => {
  const prefix = uniqueKeyPrefix('replays').slice(0, -1);
  let redis: Redis;
  const apps: INestApplication[] = [];

  const start = async (role: KeplarsQueueOptions['role']) => {
    const app = await createWebhookApp({
      adapter: 'express',
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, queue: { redis: REDIS_URL, prefix, role }, deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } } })],
    });
    apps.push(app);
    return app;
  };

  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('replays each once: the other calls resolve false', async () => {
    // Dead letters to replay: signed bodies the module cannot read, put aside by a worker.
    const worker = await start('receive-and-process');
    for (let i = 0; i < LETTERS; i++) expect((await postKeplarsEvent(worker, `{"not json ${i}"`, { secret: SECRET })).status).toBe(200);
    const deadLetters = worker.get(KeplarsDeadLetters);
    await waitFor(async () => (await deadLetters.count()) === LETTERS, 'the dead letters');
    const ids = (await deadLetters.list()).map((letter) => letter.id);
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);

    // Two receivers without workers: a replayed letter stays queued, so exactly one replay can take it.
    const [first, second] = [(await start('receive')).get(KeplarsDeadLetters), (await start('receive')).get(KeplarsDeadLetters)];
    const results = await Promise.allSettled(ids.flatMap((id) => Array.from({ length: AT_ONCE }, (_, i) => (i % 2 === 0 ? first : second).replay(id))));

    const rejections = results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason));
    expect(rejections).toEqual([]);
    const replayed = results.filter((result) => result.status === 'fulfilled' && result.value === true).length;
    expect(replayed).toBe(LETTERS);
    expect(await first.count()).toBe(0);
  }, 60_000);
});
