import { createHash, randomBytes } from 'node:crypto';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from './idempotency-store.js';
import { OperationDeadlines } from './operation-deadlines.js';

/**
 * The part of an `ioredis` client this store uses. Any `Redis` or `Cluster` instance fits; it is
 * spelled out here so that apps without Redis need not install `ioredis` at all.
 */
export interface KeplarsRedisClient {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  ping(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

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

const SETTLE = `
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '!done', '1')
else
  for i = 4, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '1') end
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

  /**
   * @param client an `ioredis` client. With `ownsClient`, `close()` quits it; a client your app passed
   * in is left for your app to close.
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
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    const token = this.tokenPrefix + (this.nextToken++).toString(36);
    const result = await this.run(CLAIM_SCRIPT, eventId, [token, Math.max(1, Math.round(lockMs))]);
    if (result === 0) return DONE;
    if (result === 1) return BUSY;
    const handled = result as string[];
    return { state: 'claimed', token, handled: handled.length === 0 ? NOTHING_HANDLED : new Set(handled) };
  }

  async renew(eventId: string, token: string | number, lockMs: number): Promise<boolean> {
    return (await this.run(RENEW_SCRIPT, eventId, [token, Math.max(1, Math.round(lockMs))])) === 1;
  }

  async settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    await this.run(SETTLE_SCRIPT, eventId, [token, Math.max(1, Math.round(windowMs)), complete ? '1' : '0', ...succeeded]);
  }

  async markHandled(eventId: string, handler: string, windowMs: number): Promise<void> {
    await this.run(MARK_SCRIPT, eventId, [Math.max(1, Math.round(windowMs)), handler]);
  }

  async isHandled(eventId: string): Promise<boolean> {
    return (await this.run(IS_HANDLED_SCRIPT, eventId, [])) === 1;
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
    const keysAndArgs = [key, `${key}:lock`, ...args];
    return this.watched((succeed, fail) =>
      this.client.evalsha(script.sha1, 2, ...keysAndArgs).then(succeed, (error: unknown) => {
        // The script cache is empty after a Redis restart: send the script itself once.
        if (String((error as Error)?.message).startsWith('NOSCRIPT')) this.client.eval(script.source, 2, ...keysAndArgs).then(succeed, fail);
        else fail(error);
      }),
    );
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
