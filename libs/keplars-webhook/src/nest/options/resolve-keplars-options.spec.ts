import { checkForRootAsyncKeys, resolveKeplarsOptions, resolveRoute } from './resolve-keplars-options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

const problemsOf = (options: unknown): readonly string[] => {
  try {
    resolveKeplarsOptions(options as never);
  } catch (error) {
    if (error instanceof KeplarsConfigurationError) return error.problems;
    throw error;
  }
  return [];
};

describe('resolveKeplarsOptions', () => {
  it('applies the documented defaults', () => {
    expect(resolveKeplarsOptions({ secret: 's' })).toEqual({
      secrets: ['s'],
      tenants: undefined,
      signatureHeader: 'x-keplars-signature',
      timestamp: undefined,
      maxBodyBytes: 102_400,
      deduplication: { windowMs: 86_400_000, derivedIdWindowMs: 300_000, lockMs: 60_000, store: { kind: 'memory', maxEvents: 100_000 } },
      emitEvents: true,
      queue: undefined,
    });
  });

  it('in queue mode, applies its defaults and keeps the handlers\' marks on the queue\'s Redis', () => {
    const resolved = resolveKeplarsOptions({ secret: 's', queue: { redis: 'redis://localhost:6379' } });
    expect(resolved.queue).toEqual({
      redis: 'redis://localhost:6379',
      role: 'receive-and-process',
      prefix: 'bull',
      name: 'keplars-webhook',
      attempts: 14,
      backoff: { delayMs: 15_000, jitter: 0.5 },
      concurrency: 10,
      stalledMs: 30_000,
      operationTimeoutMs: 2000,
    });
    expect(resolved.deduplication?.store).toEqual({ kind: 'redis', options: { redis: 'redis://localhost:6379' } });
  });

  it('retries over about a day by default: every wait shorter than the dedup window', () => {
    const { attempts, backoff } = resolveKeplarsOptions({ secret: 's', queue: { redis: 'redis://r' } }).queue!;
    // BullMQ's exponential backoff: retry n waits delay × 2^(n-1), less up to `jitter` of it at random.
    const waits = Array.from({ length: attempts - 1 }, (_, i) => backoff.delayMs * 2 ** i);
    const hours = (ms: number) => ms / 3_600_000;
    const longest = waits.reduce((sum, wait) => sum + wait, 0);
    expect(hours(longest)).toBeGreaterThan(24);
    expect(hours(longest * (1 - backoff.jitter))).toBeGreaterThan(12);
    expect(hours(longest * (1 - backoff.jitter / 2))).toBeCloseTo(25.6, 1);
    expect(Math.max(...waits)).toBeLessThan(86_400_000);
  });

  it('accepts a list of secrets, the timestamped scheme and custom headers', () => {
    const resolved = resolveKeplarsOptions({ secret: ['new', 'old'], signatureHeader: 'X-Sig', timestamp: { toleranceSeconds: 60 } });
    expect(resolved).toMatchObject({ secrets: ['new', 'old'], signatureHeader: 'x-sig', timestamp: { header: 'x-keplars-timestamp', toleranceSeconds: 60 } });
  });

  it.each([
    ['no secret', undefined, /no secret was given \(got undefined\).*process\.env\.KEPLARS_WEBHOOK_SECRET/],
    ['an empty secret', { secret: '' }, /secret is empty/],
    ['a blank secret', { secret: '   ' }, /secret is empty/],
    ['an empty list', { secret: [] }, /secret is an empty list/],
    ['a list with a non-string', { secret: ['ok', 42] }, /secret\[1\] must be a string \(got a number\)/],
    ['a list with an unset variable', { secret: ['ok', undefined] }, /secret\[1\] is not set \(got undefined\).*process\.env\.KEPLARS_WEBHOOK_SECRET/],
    ['an unset Redis URL', { secret: 's', deduplication: { store: { redis: undefined } } }, /deduplication\.store\.redis is not set \(got undefined\).*REDIS_URL/],
    ['an unset queue Redis URL', { secret: 's', queue: { redis: undefined } }, /queue\.redis must be a URL .*\(got undefined\).*REDIS_URL/],
    ['a secret with a trailing newline', { secret: 'abc\n' }, /whitespace.*trim it/],
    ['a misspelled option', { secret: 's', signatureheader: 'x' }, /unknown option "signatureheader"/],
    ['a bad header name', { secret: 's', signatureHeader: 'x sig' }, /signatureHeader must be an HTTP header name/],
    ['a negative tolerance', { secret: 's', timestamp: { toleranceSeconds: -5 } }, /timestamp.toleranceSeconds must be a positive number \(got -5\)/],
    ['timestamp as a string', { secret: 's', timestamp: 'yes' }, /timestamp must be true, false or/],
    ['a zero body limit', { secret: 's', maxBodyBytes: 0 }, /maxBodyBytes must be a positive number/],
    ['a fractional maxEvents', { secret: 's', deduplication: { maxEvents: 1.5 } }, /maxEvents must be a whole number/],
    [
      'a lockSeconds longer than a Node.js timer can wait',
      { secret: 's', deduplication: { lockSeconds: 2_147_484 } },
      /deduplication.lockSeconds must be at most 2147483 \(about 24.8 days\), the longest a Node.js timer can wait \(got 2147484\)/,
    ],
    ['a Redis URL that is not one', { secret: 's', deduplication: { store: { redis: 'localhost:6379' } } }, /redis must be a URL such as "redis:\/\/localhost:6379"/],
    ['an unknown store', { secret: 's', deduplication: { store: 'postgres' } }, /deduplication.store must be 'memory'/],
    ['emitEvents as a string', { secret: 's', emitEvents: 'no' }, /emitEvents must be true or false/],
    ['a queue without Redis or Postgres', { secret: 's', queue: {} }, /queue needs where to keep the deliveries: queue: \{ redis: process.env.REDIS_URL \} or queue: \{ postgres: process.env.DATABASE_URL \}/],
    ['a queue with an unset Redis URL', { secret: 's', queue: { redis: undefined } }, /queue.redis must be a URL such as "redis:\/\/localhost:6379" or an ioredis client \(got undefined\)/],
    ['an unknown role', { secret: 's', queue: { redis: 'redis://r', role: 'worker' } }, /queue.role must be 'receive-and-process', 'receive', 'process' \(got "worker"\)/],
    ['a misspelled queue option', { secret: 's', queue: { redis: 'redis://r', attempt: 3 } }, /unknown option "queue.attempt"/],
    ['a jitter above 1', { secret: 's', queue: { redis: 'redis://r', backoff: { jitter: 2 } } }, /queue.backoff.jitter must be a fraction from 0 to 1/],
    ['the memory store in queue mode', { secret: 's', queue: { redis: 'redis://r' }, deduplication: { store: 'memory' } }, /cannot be 'memory' in queue mode/],
    ['deduplication off in queue mode', { secret: 's', queue: { redis: 'redis://r' }, deduplication: false }, /deduplication cannot be false in queue mode/],
  ])('refuses %s, saying how to fix it', (_, options, message) => {
    const problems = problemsOf(options);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  // Issue 11, point 4: a misspelled option used to start the app with the default.
  it.each([
    ['deduplication.windowSecond', { deduplication: { windowSecond: 60 } }, 'unknown option "deduplication.windowSecond" (did you mean "deduplication.windowSeconds"?). The options of deduplication are: windowSeconds, derivedIdWindowSeconds, lockSeconds, store, maxEvents.'],
    ['store.keyprefix', { deduplication: { store: { redis: 'redis://localhost:6379', keyprefix: 'app:' } } }, 'unknown option "deduplication.store.keyprefix" (did you mean "deduplication.store.keyPrefix"?). The options of deduplication.store are: redis, keyPrefix, operationTimeoutMs.'],
    ['timestamp.tolerance', { timestamp: { tolerance: 60 } }, 'unknown option "timestamp.tolerance". The options of timestamp are: header, toleranceSeconds.'],
    ['a top-level typo', { signatureheader: 'x' }, 'unknown option "signatureheader" (did you mean "signatureHeader"?). The options are: secret, tenants, signatureHeader, timestamp, maxBodyBytes, deduplication, emitEvents, queue, ledger.'],
  ])('refuses the misspelled %s, listing the valid keys of its level', (_, options, message) => {
    expect(problemsOf({ secret: 's', ...options })).toEqual([message]);
  });

  it.each(['name', 'path', 'routeDecorators'])('says that %s returned by a forRootAsync factory belongs beside useFactory', (key) => {
    expect(problemsOf({ secret: 's', [key]: key === 'path' ? '/hooks' : [] })).toEqual([expect.stringMatching(new RegExp(`^"${key}" was returned by the forRootAsync\\(\\) factory.*put it beside useFactory, as forRootAsync\\(\\{ ${key}: …, useFactory, inject \\}\\)`))]);
  });

  it('gives events with content-derived ids a short window of their own, never longer than the window', () => {
    expect(resolveKeplarsOptions({ secret: 's', deduplication: { derivedIdWindowSeconds: 30 } }).deduplication).toMatchObject({ windowMs: 86_400_000, derivedIdWindowMs: 30_000 });
    expect(resolveKeplarsOptions({ secret: 's', deduplication: { windowSeconds: 60 } }).deduplication).toMatchObject({ windowMs: 60_000, derivedIdWindowMs: 60_000 });
    expect(problemsOf({ secret: 's', deduplication: { windowSeconds: 60, derivedIdWindowSeconds: 120 } })).toEqual([
      expect.stringMatching(/derivedIdWindowSeconds \(120\) is longer than deduplication.windowSeconds \(60\).*at most windowSeconds/),
    ]);
  });

  it('reports every problem at once, and never prints a secret', () => {
    const problems = problemsOf({ secret: ' hunter2 ', maxBodyBytes: -1, emitEvents: 1 });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});

describe('checkForRootAsyncKeys', () => {
  it('accepts what Nest\'s async options take, and the route options', () => {
    expect(() => checkForRootAsyncKeys({ imports: [], inject: [], useFactory: () => ({}), path: '/h', routeDecorators: [] })).not.toThrow();
  });

  it('refuses a key forRootAsync() does not take, listing those it does', () => {
    expect(() => checkForRootAsyncKeys({ useFactory: () => ({}), injects: [] })).toThrow(
      'unknown option forRootAsync({ injects }) (did you mean "inject"?). forRootAsync() takes: useFactory, inject, imports, useClass, useExisting, provideInjectionTokensFrom, name, path, routeDecorators.',
    );
  });
});

describe('resolveRoute', () => {
  it('defaults to POST /webhooks/keplars with no extra decorators', () => {
    expect(resolveRoute({})).toEqual({ name: 'default', path: '/webhooks/keplars', routeDecorators: [] });
    expect(resolveRoute({ path: 'hooks/keplars' }).path).toBe('/hooks/keplars');
  });

  it.each([
    ['an empty path', { path: '' }, /path must be a URL path/],
    ['a path with a query', { path: '/hooks?x=1' }, /path must be a URL path/],
    ['decorator factories not called', { routeDecorators: ['Public'] }, /call the decorator factories/],
  ])('refuses %s', (_, route, message) => {
    expect(() => resolveRoute(route as never)).toThrow(message);
  });
});
