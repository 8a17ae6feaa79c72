import { Injectable, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeplarsDeadLetters, KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { runKeplarsWebhookCli } from '../../libs/keplars-webhook/src/cli/run-keplars-webhook.js';
import { connectRedis, deleteKeys, OwnRedisServer, REDIS_URL, uniqueKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { createWebhookApp } from '../support/webhook-app.js';

// `keplars-webhook dead-letters list|show|replay|discard`, as an operator runs it against the queue
// of a running app (real Redis, real BullMQ), reading the Redis URL from a flag or the environment.
const SECRET = 'whsec_dead_letters_cli';

@Injectable()
class BillingHandlers {
  broken = true;
  readonly charged = new Map<string, number>();
  readonly audited = new Map<string, number>();

  @OnKeplarsEvent('email.bounced')
  chargeBack(event: KeplarsEvent): void {
    if (this.broken) throw new Error('billing API answered 502');
    this.charged.set(event.id, (this.charged.get(event.id) ?? 0) + 1);
  }

  @OnKeplarsEvent('*')
  audit(event: KeplarsEvent): void {
    this.audited.set(event.id, (this.audited.get(event.id) ?? 0) + 1);
  }
}

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('keplars-webhook dead-letters', () => {
  const prefix = uniqueKeyPrefix('dead-letters-cli').slice(0, -1);
  const where = `queue "keplars-webhook" (prefix "${prefix}") on redis://127.0.0.1:6379`;
  let app: INestApplication;
  let handlers: BillingHandlers;
  let redis: Redis;

  async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeplarsWebhookCli(argv, env, { out: (text) => out.push(text), err: (text) => err.push(text) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const deadLetters = (...args: string[]) => cli(['dead-letters', ...args, '--prefix', prefix], { KEPLARS_QUEUE_REDIS_URL: REDIS_URL });

  async function deadLetterOf(type: string): Promise<string> {
    const payload = buildKeplarsPayload(type);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    const id = String(payload.id);
    await waitFor(async () => (await app.get(KeplarsDeadLetters).show(id)) !== undefined, `${id} to become a dead letter`);
    return id;
  }

  beforeAll(async () => {
    redis = connectRedis();
    app = await createWebhookApp({
      adapter: 'express',
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          queue: { redis: REDIS_URL, prefix, attempts: 2, backoff: { delaySeconds: 0.05 } },
          deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
        }),
      ],
      providers: [BillingHandlers],
    });
    handlers = app.get(BillingHandlers);
  });
  afterAll(async () => {
    await app.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('lists, shows, replays (only the handler that failed) and discards dead letters', async () => {
    const first = await deadLetterOf('email.bounced');
    const second = await deadLetterOf('email.bounced');

    const listed = await deadLetters('list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^2 dead letter\\(s\\) in queue "keplars-webhook" \\(prefix "${prefix}"\\) on redis://127\\.0\\.0\\.1:6379:`));
    expect(listed.out).toContain(`${first}  handlers-failed  email.bounced  2 attempt(s)`);
    expect(listed.out).toContain('BillingHandlers.chargeBack: Error: billing API answered 502');

    const shown = await deadLetters('show', first);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('failed:     BillingHandlers.chargeBack (attempt 2): Error: billing API answered 502');
    expect(shown.out).toContain('succeeded:  BillingHandlers.audit (not run again by a replay)');
    expect(shown.out).toContain(`"id":"${first}"`); // the body as received
    const json = JSON.parse((await deadLetters('show', first, '--json')).out);
    expect(json).toMatchObject({ id: first, kind: 'handlers-failed', attempts: 2, succeeded: ['BillingHandlers.audit'] });

    handlers.broken = false; // the billing API is back
    const replayed = await deadLetters('replay', first);
    expect(replayed).toEqual({ code: 0, out: `Replayed ${first} in ${where}.`, err: '' });
    await waitFor(() => handlers.charged.get(first) === 1, 'the replayed event to be charged');
    expect(handlers.audited.get(first)).toBe(1);

    const discarded = await deadLetters('discard', second);
    expect(discarded.out).toBe(`Discarded ${second} in ${where}.`);
    expect((await deadLetters('list')).out).toBe(`No dead letters in ${where}.`);
    expect(handlers.charged.get(second)).toBeUndefined();

    const again = await deadLetters('replay', first);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`No dead letter ${first} in ${where} (already replayed or discarded?`);
  });

  it('replays every dead letter with --all', async () => {
    handlers.broken = true;
    const ids = [await deadLetterOf('email.bounced'), await deadLetterOf('email.bounced')];
    handlers.broken = false;
    expect((await deadLetters('replay', '--all')).out).toBe(`Replayed 2 dead letter(s) in ${where}.`);
    await waitFor(() => ids.every((id) => handlers.charged.get(id) === 1), 'both to be charged');
    expect(ids.map((id) => handlers.audited.get(id))).toEqual([1, 1]);
  });

  it.each([
    [['dead-letters', 'list'], {}, /No queue to look in: pass --redis redis:\/\/host:6379 or --postgres postgres:\/\/host:5432\/app, or set KEPLARS_QUEUE_REDIS_URL or REDIS_URL \(Redis\) or KEPLARS_QUEUE_POSTGRES_URL/],
    [['dead-letters', 'list', '--redis', 'localhost:6379'], {}, /--redis must be a URL such as redis:\/\/localhost:6379/],
    [['dead-letters', 'replay'], { REDIS_URL }, /replay takes dead letter ids, or --all/],
    [['dead-letters', 'show'], { REDIS_URL }, /show takes one dead letter id/],
    [['dead-letters', 'purge'], { REDIS_URL }, /Unknown command "purge": use list, show, replay or discard/],
    [['dead-letter', 'list'], { REDIS_URL }, /Unknown command "dead-letter"/],
    [[], { REDIS_URL }, /Usage: keplars-webhook <command>/],
  ])('refuses %j with exit code 2 and says what to do', async (argv, env, message) => {
    const run = await cli(argv, env);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
  });

  it('says so, with exit code 1 and without the password, when Redis cannot be reached', async () => {
    const run = await cli(['dead-letters', 'list', '--redis', 'redis://:hunter2@127.0.0.1:1']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^Could not reach the queue at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(prefix "bull"\)/);
    expect(run.err).not.toContain('hunter2');
  });
});

/** Every command Redis ran while `action` ran (MONITOR: a client's own, and those of the scripts it called). */
async function commandsDuring(client: Redis, action: () => Promise<unknown>): Promise<{ command: string; args: string[]; source: string }[]> {
  const seen: { command: string; args: string[]; source: string }[] = [];
  const monitor = await client.monitor();
  let done = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'echo' && args[1] === 'end-of-action') done = true;
    else if (!done) seen.push({ command: args[0]!.toLowerCase(), args, source });
  });
  try {
    await action();
    await client.echo('end-of-action');
    await waitFor(() => done, 'MONITOR to see the end of the action');
  } finally {
    monitor.disconnect();
  }
  return seen;
}

/** The commands among these that Redis itself flags as writes (COMMAND INFO). */
async function writesAmong(client: Redis, commands: readonly { command: string; args: string[]; source: string }[]) {
  const writes = [];
  for (const run of commands) {
    const [info] = (await client.command('INFO', run.command)) as [unknown[] | null];
    if (Array.isArray(info?.[2]) && (info[2] as string[]).includes('write')) writes.push(`${run.source}: ${run.args.join(' ')}`);
  }
  return writes;
}

// Issue 22: the read-only commands write nothing to Redis (not even BullMQ's queue meta, which a typo'd
// --prefix used to leave behind as a stray key), every answer names where it looked, and a prefix with
// no queue behind it is said to be so, with the module's queues that do exist on that Redis.
describe('keplars-webhook dead-letters on a Redis of its own: where it looked, and nothing written', () => {
  let server: OwnRedisServer;
  let client: Redis;
  let deadLetterId: string;

  async function cli(...argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeplarsWebhookCli(['dead-letters', ...argv, '--redis', server.url], {}, { out: (text) => out.push(text), err: (text) => err.push(text) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    client = connectRedis(server.url);
    const app = await createWebhookApp({
      adapter: 'express',
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, queue: { redis: server.url, prefix: 'shop', attempts: 1 } })],
      providers: [BillingHandlers],
    });
    const payload = buildKeplarsPayload('email.bounced');
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    deadLetterId = String(payload.id);
    await waitFor(async () => (await app.get(KeplarsDeadLetters).show(deadLetterId)) !== undefined, 'a dead letter');
    await app.close(); // its workers write (stalled checks): only the command may run from here on
  }, 30_000);
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it('list and show, with the right prefix, a mistyped one or none, send Redis no write command and leave no key', async () => {
    const keysBefore = (await client.keys('*')).sort();
    const codes: number[] = [];
    const commands = await commandsDuring(client, async () => {
      codes.push((await cli('list', '--prefix', 'shop')).code);
      codes.push((await cli('show', deadLetterId, '--prefix', 'shop')).code);
      codes.push((await cli('list', '--prefix', 'shp')).code);
      codes.push((await cli('show', deadLetterId, '--prefix', 'shp', '--json')).code);
      codes.push((await cli('list')).code); // the default prefix, bull
    });
    expect(commands.length).toBeGreaterThan(0); // MONITOR did see the commands
    expect(await writesAmong(client, commands)).toEqual([]);
    expect((await client.keys('*')).sort()).toEqual(keysBefore);
    expect(codes).toEqual([0, 0, 1, 1, 1]);
  });

  it('names the queue, its prefix and the Redis it looked in, in every answer', async () => {
    const where = `queue "keplars-webhook" (prefix "shop") on ${server.url}`;
    const listed = await cli('list', '--prefix', 'shop');
    expect(listed.out.split('\n')[0]).toBe(`1 dead letter(s) in ${where}:`);
    const shown = await cli('show', deadLetterId, '--prefix', 'shop');
    expect(shown.out.split('\n')[0]).toBe(`Dead letter ${deadLetterId} (handlers-failed) in ${where}`);
    const missing = await cli('show', 'evt_none', '--prefix', 'shop');
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining(`No dead letter evt_none in ${where}`) });
    const json = await cli('list', '--prefix', 'shop', '--json');
    expect(JSON.parse(json.out)).toHaveLength(1); // stdout stays JSON; where it looked goes to stderr
    expect(json.err).toBe(`Looked in ${where}.`);
  });

  it('says when there is no such queue there, and which queues of the module there are', async () => {
    const typo = await cli('list', '--prefix', 'shp');
    expect(typo.code).toBe(1);
    expect(typo.out).toBe('');
    expect(typo.err).toContain(`No queue "keplars-webhook" with prefix "shp" on ${server.url}: the module never wrote one there.`);
    expect(typo.err).toContain('The queues of the module on that Redis: prefix "shop" (1 dead letter(s)). Pass it as --prefix, e.g. --prefix shop.');
    const elsewhere = await runKeplarsWebhookCli(['dead-letters', 'list', '--redis', `${server.url}/3`], {}, { out() {}, err: (text) => expect(text).toContain('No queue of the module on that Redis (database 3): is it the Redis of queue.redis?') });
    expect(elsewhere).toBe(1);
  });
});
