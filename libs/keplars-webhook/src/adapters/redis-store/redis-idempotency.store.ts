import { createHash, randomBytes } from 'node:crypto';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { OperationDeadlines } from '../../core/support/operation-deadlines.js';

/**
 * The part of an `ioredis` client this store uses. Any `Redis` or `Cluster` instance fits; it is
 * spelled out here so that apps without Redis need not install `ioredis` at all.
 */
export interface KeplarsRedisClient {
  /** `true` on an ioredis `Cluster`: keys of several events may live on different nodes there. */
  readonly isCluster?: boolean;
  /** Runs a Lua script Redis has cached, by its SHA-1 (`EVALSHA`): every store operation is one. */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script given in full (`EVAL`): after a Redis restart emptied the script cache. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Checks Redis answers (`PING`): at startup, and by the health indicator. */
  ping(): Promise<unknown>;
  /** Closes the connection politely (`QUIT`); used only on a client the module opened itself. */
  quit(): Promise<unknown>;
  /** Closes the connection at once, when `quit()` cannot reach Redis; only on a client the module opened itself. */
  disconnect(): void;
}

/** Settings of a {@link RedisIdempotencyStore} you build yourself (the module builds its own from `deduplication.store`). */
export interface RedisIdempotencyStoreOptions {
  /** Prefix of every key this store writes. @default 'keplars:webhook:' */
  readonly keyPrefix?: string;
  /** How long one Redis call may take before the delivery is answered 503. @default 2000 */
  readonly operationTimeoutMs?: number;
  /** How log lines name this server (never with its password). @default 'Redis' */
  readonly description?: string;
}

// Both scripts run atomically in Redis: no other delivery can act between their reads and writes.
// KEYS[1] is the hash of handlers that succeeded for the event (field '!done' once all did);
// KEYS[2] is the lock a running delivery holds.
const CLAIM = `
if redis.call('HEXISTS', KEYS[1], '!done') == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return redis.call('HKEYS', KEYS[1])`;

// ARGV: token, window, complete ('1'/'0'), how many handlers follow (none when complete), the handlers.
const SETTLE = `
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '!done', '1')
else
  for i = 5, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '1') end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

// A handler's success, recorded while its delivery runs; nothing to add once the event is done.
const MARK = `
if redis.call('HEXISTS', KEYS[1], '!done') == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

const NOTHING_HANDLED: ReadonlySet<string> = new Set();

// The same two scripts for several events at once (KEYS come in pairs, one pair per event): the
// claims, and the settles, that deliveries ask for in one turn of the event loop go to Redis as one
// call, whose reply lists each event's answer in order. Under load that turns many small commands
// into a few larger ones, and it is the per-command work in ioredis, not Redis, that costs.
const CLAIM_MANY = `
local answers = {}
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  if redis.call('HEXISTS', KEYS[i], '!done') == 1 then answers[n] = 0
  elseif not redis.call('SET', KEYS[i + 1], ARGV[i], 'NX', 'PX', ARGV[i + 1]) then answers[n] = 1
  else answers[n] = redis.call('HKEYS', KEYS[i]) end
end
return answers`;

// ARGV per event: as SETTLE's.
const SETTLE_MANY = `
local a = 1
for i = 1, #KEYS, 2 do
  local count = tonumber(ARGV[a + 3])
  if ARGV[a + 2] == '1' then
    redis.call('DEL', KEYS[i])
    redis.call('HSET', KEYS[i], '!done', '1')
  else
    for j = 1, count do redis.call('HSET', KEYS[i], ARGV[a + 3 + j], '1') end
  end
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[a + 1]) end
  if redis.call('GET', KEYS[i + 1]) == ARGV[a] then redis.call('DEL', KEYS[i + 1]) end
  a = a + 4 + count
end
return 1`;

// A running delivery's lock, extended while its handlers still run; only by the delivery holding it.
const RENEW = `
if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0`;

interface Script {
  readonly source: string;
  readonly sha1: string;
}

const script = (source: string): Script => ({ source, sha1: createHash('sha1').update(source).digest('hex') });
const CLAIM_SCRIPT = script(CLAIM);
const SETTLE_SCRIPT = script(SETTLE);
const MARK_SCRIPT = script(MARK);
const IS_HANDLED_SCRIPT = script(`return redis.call('HEXISTS', KEYS[1], '!done')`);
const RENEW_SCRIPT = script(RENEW);
const CLAIM_MANY_SCRIPT = script(CLAIM_MANY);
const SETTLE_MANY_SCRIPT = script(SETTLE_MANY);

/** A claim or settle waiting for its turn's batch: its two keys, its arguments, and its caller. */
interface Pending {
  readonly keys: readonly [string, string];
  readonly args: readonly (string | number)[];
  readonly succeed: (value: unknown) => void;
  readonly fail: (error: unknown) => void;
}

/**
 * Collects the calls of one script made in one turn of the event loop and sends them as one call of
 * its many-events form (`setImmediate`: after the turn's I/O, so every request that arrived in it
 * has had its say). One call alone goes as it always did. Each call keeps its own deadline.
 */
class ScriptBatch {
  private pending: Pending[] = [];

  constructor(
    private readonly one: Script,
    private readonly many: Script,
    private readonly send: (script: Script, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>,
  ) {}

  add(call: Pending): void {
    if (this.pending.push(call) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const calls = this.pending;
    this.pending = [];
    if (calls.length === 1) {
      const [call] = calls as [Pending];
      this.send(this.one, call.keys, call.args).then(call.succeed, call.fail);
      return;
    }
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const call of calls) {
      keys.push(call.keys[0], call.keys[1]);
      for (const arg of call.args) args.push(arg);
    }
    this.send(this.many, keys, args).then(
      (answers) => calls.forEach((call, index) => call.succeed((answers as unknown[])[index])),
      (error: unknown) => calls.forEach((call) => call.fail(error)),
    );
  }
}

/**
 * Deduplication marks in Redis, shared by every instance of the app. Each operation is one Lua script
 * (atomic), keys expire with the dedup window, and a delivery's lock expires on its own if the
 * process holding it dies. Keys of one event share a hash tag, so it also works on Redis Cluster.
 */
export class RedisIdempotencyStore implements KeplarsIdempotencyStore {
  private readonly keyPrefix: string;
  private readonly description: string;
  private readonly deadlines: OperationDeadlines;
  /** Lock tokens: this store's random prefix and a counter, unique across instances, short on the wire. */
  private readonly tokenPrefix = `${randomBytes(9).toString('base64url')}:`;
  private nextToken = 0;
  /** Claims and settles of one event-loop turn, sent together; none on a Cluster (one slot per call). */
  private readonly claims: ScriptBatch | undefined;
  private readonly settles: ScriptBatch | undefined;

  /**
   * @param client an `ioredis` client. With `ownsClient`, `close()` quits it; a client your app passed
   * in is left for your app to close.
   * @param options key prefix, timeout, and the server's name in log lines.
   * @param ownsClient whether `close()` should quit `client` (the module sets it for a connection it opened from a URL).
   */
  constructor(
    private readonly client: KeplarsRedisClient,
    options: RedisIdempotencyStoreOptions = {},
    private readonly ownsClient = false,
  ) {
    this.keyPrefix = options.keyPrefix ?? 'keplars:webhook:';
    this.description = options.description ?? 'Redis';
    const timeoutMs = options.operationTimeoutMs ?? 2000;
    this.deadlines = new OperationDeadlines(timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    if (client.isCluster !== true) {
      const send = (script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => this.evaluate(script, keys, args);
      this.claims = new ScriptBatch(CLAIM_SCRIPT, CLAIM_MANY_SCRIPT, send);
      this.settles = new ScriptBatch(SETTLE_SCRIPT, SETTLE_MANY_SCRIPT, send);
    }
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    const token = this.tokenPrefix + (this.nextToken++).toString(36);
    const args = [token, Math.max(1, Math.round(lockMs))];
    const result = this.claims ? await this.batched(this.claims, eventId, args) : await this.run(CLAIM_SCRIPT, eventId, args);
    if (result === 0) return DONE;
    if (result === 1) return BUSY;
    const handled = result as string[];
    return { state: 'claimed', token, handled: handled.length === 0 ? NOTHING_HANDLED : new Set(handled) };
  }

  async renew(eventId: string, token: string | number, lockMs: number): Promise<boolean> {
    return (await this.run(RENEW_SCRIPT, eventId, [token, Math.max(1, Math.round(lockMs))])) === 1;
  }

  async settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    const window = Math.max(1, Math.round(windowMs));
    // A complete event's hash is replaced by its '!done' mark: its handlers need not travel.
    const args = complete ? [token, window, '1', 0] : [token, window, '0', succeeded.length, ...succeeded];
    await (this.settles ? this.batched(this.settles, eventId, args) : this.run(SETTLE_SCRIPT, eventId, args));
  }

  async markHandled(eventId: string, handler: string, windowMs: number): Promise<void> {
    await this.run(MARK_SCRIPT, eventId, [Math.max(1, Math.round(windowMs)), handler]);
  }

  async isHandled(eventId: string): Promise<boolean> {
    return (await this.run(IS_HANDLED_SCRIPT, eventId, [])) === 1;
  }

  /**
   * Where the mark "every handler succeeded" of an event lives (a hash field), for queue mode's
   * receivers: on the queue's own Redis they read it in the same script as the job's key.
   * @internal The module's own plumbing: the key layout is not a promise to apps.
   */
  handledMark(eventId: string): { readonly key: string; readonly field: string } {
    return { key: `${this.keyPrefix}{${eventId}}`, field: '!done' };
  }

  async ping(): Promise<void> {
    await this.watched((succeed, fail) => this.client.ping().then(succeed, fail));
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    // QUIT needs a connection; without one, stop the reconnection attempts instead.
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private run(script: Script, eventId: string, args: (string | number)[]): Promise<unknown> {
    const key = `${this.keyPrefix}{${eventId}}`;
    return this.watched((succeed, fail) => this.evaluate(script, [key, `${key}:lock`], args).then(succeed, fail));
  }

  /** A call that waits for its turn's batch (see {@link ScriptBatch}), with its own deadline all the same. */
  private batched(batch: ScriptBatch, eventId: string, args: (string | number)[]): Promise<unknown> {
    const key = `${this.keyPrefix}{${eventId}}`;
    return this.watched((succeed, fail) => batch.add({ keys: [key, `${key}:lock`], args, succeed, fail }));
  }

  private evaluate(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.client.evalsha(script.sha1, keys.length, ...keys, ...args).catch((error: unknown) => {
      // The script cache is empty after a Redis restart: send the script itself once.
      if (String((error as Error)?.message).startsWith('NOSCRIPT')) return this.client.eval(script.source, keys.length, ...keys, ...args);
      throw error;
    });
  }

  /**
   * One Redis call, failed after `operationTimeoutMs` without an answer, its errors worded for the log.
   * (One promise per call: the deadline is kept by {@link OperationDeadlines}, not a timer per call.)
   */
  private watched(call: (succeed: (value: unknown) => void, fail: (error: unknown) => void) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const watched = this.deadlines.start((error) => reject(this.unreachable(error)));
      const fail = (error: unknown): void => {
        if (this.deadlines.finish(watched)) reject(this.unreachable(error));
      };
      try {
        call((value) => {
          if (this.deadlines.finish(watched)) resolve(value);
        }, fail);
      } catch (error) {
        fail(error); // a client that throws instead of rejecting
      }
    });
  }

  private unreachable(error: unknown): Error {
    const message = String((error as Error)?.message ?? error);
    // ioredis's words for "not connected right now" (its offline queue is off): say it plainly.
    const reason = message.startsWith("Stream isn't writeable") ? 'not connected' : message;
    return new Error(`${this.description} is unreachable: ${reason}`, { cause: error });
  }
}
