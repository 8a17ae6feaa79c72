import { resolveKeplarsOptions } from './resolve-keplars-options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

// Queue mode on PostgreSQL (SPEC §4b): where the queue lives is exactly one of queue.redis and queue.postgres.
const URL = 'postgres://app:secret@db:5432/app';
const REDIS_STORE = { store: { redis: 'redis://localhost:6379' } };

const problemsOf = (options: unknown): readonly string[] => {
  try {
    resolveKeplarsOptions(options as never);
  } catch (error) {
    if (error instanceof KeplarsConfigurationError) return error.problems;
    throw error;
  }
  return [];
};

describe('queue on Postgres: resolving the options', () => {
  it('applies the defaults: schema keplars_webhook_queue, and the same role, attempts, backoff and timeouts as on Redis', () => {
    const { queue } = resolveKeplarsOptions({ secret: 's', queue: { postgres: URL }, deduplication: REDIS_STORE });
    expect(queue).toMatchObject({
      postgres: { connectionString: URL, schema: 'keplars_webhook_queue' },
      role: 'receive-and-process',
      attempts: 14,
      backoff: { delayMs: 15_000, jitter: 0.5 },
      concurrency: 10,
      stalledMs: 30_000,
      operationTimeoutMs: 2000,
    });
    expect(queue!.redis).toBeUndefined();
  });

  it('takes a schema of the user\'s', () => {
    expect(resolveKeplarsOptions({ secret: 's', queue: { postgres: URL, schema: 'billing_hooks' }, deduplication: REDIS_STORE }).queue!.postgres!.schema).toBe('billing_hooks');
  });

  it.each([
    ['both redis and postgres', { redis: 'redis://localhost:6379', postgres: URL }, /^queue names both redis and postgres: give one, .*remove queue.redis/],
    ['neither', { role: 'receive' }, /^queue needs where to keep the deliveries: queue: \{ redis: process.env.REDIS_URL \} or queue: \{ postgres: process.env.DATABASE_URL \}/],
    ['an unset variable', { postgres: undefined }, /^queue.postgres is not set \(got undefined\): .*set it where the app starts/],
    ['a pg.Pool-like object', { postgres: { query() {} } }, /^queue.postgres must be a connection string such as "postgres:\/\/user:password@localhost:5432\/app" \(got an object\)/],
    ['a URL of another database', { postgres: 'mysql://db/app' }, /a string that is not a postgres:\/\/ URL/],
    ['a prefix', { postgres: URL, prefix: 'bull' }, /^queue.prefix is a Redis key prefix; on Postgres the queue's namespace is queue.schema: use schema: "bull" instead/],
    ['a schema that is no identifier', { postgres: URL, schema: 'my-schema; drop' }, /^queue.schema must be a PostgreSQL schema name/],
    ['a schema on Redis', { redis: 'redis://localhost:6379', schema: 'x' }, /^queue.schema is for a queue on Postgres; on Redis the namespace is queue.prefix/],
  ])('refuses %s at startup and says the fix', (_, queue, problem) => {
    const problems = problemsOf({ secret: 's', queue, deduplication: REDIS_STORE });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  it('refuses an unknown key of queue, listing postgres and schema among the valid ones', () => {
    expect(problemsOf({ secret: 's', queue: { postgress: URL }, deduplication: REDIS_STORE })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^unknown option "queue.postgress" \(did you mean "queue.postgres"\?\)\. The options of queue are: redis, postgres, schema, /)]),
    );
  });

  it('keeps the marks beside the queue by default: the Postgres store, on the same database and schema', () => {
    const resolved = resolveKeplarsOptions({ secret: 's', queue: { postgres: URL, schema: 'jobs_here' } });
    expect(resolved.deduplication?.store).toMatchObject({ kind: 'postgres', target: { postgres: URL }, settings: { schema: 'jobs_here' } });
  });

  it('refuses the memory store, which workers in several processes cannot share, naming the default', () => {
    expect(problemsOf({ secret: 's', queue: { postgres: URL }, deduplication: { store: 'memory' } })).toEqual([
      expect.stringMatching(/^deduplication.store cannot be 'memory' in queue mode: .*Leave "store" out \(the queue's Postgres is used\)/),
    ]);
  });
});
