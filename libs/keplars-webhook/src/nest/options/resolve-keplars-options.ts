import type { EmailLedgerSettings } from '../../core/email-ledger/email-ledger.js';
import type { SuppressionPolicy } from '../../core/email-ledger/suppression-policy.js';
import { DEFAULT_LOOKUPS_PER_SECOND } from '../../core/1-verify/tenant-secret-cache.js';
import { DEFAULT_ENDPOINT } from '../../core/0-event/keplars-event.js';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import {
  DEFAULT_QUEUE_SCHEMA,
  KEPLARS_QUEUE_NAME,
  KEPLARS_QUEUE_ROLES,
  type KeplarsQueueOptions,
  type ResolvedQueueOptions,
} from '../../adapters/bullmq-queue/keplars-queue.options.js';
import {
  KEPLARS_OPTION_KEYS,
  type KeplarsDeduplicationOptions,
  type KeplarsRedisStoreOptions,
  type KeplarsPostgresStoreOptions,
  type KeplarsPGliteStoreOptions,
  type KeplarsSecretResolver,
  type KeplarsWebhookOptions,
  type KeplarsWebhookRouteOptions,
} from './keplars-webhook.options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { DEFAULT_POSTGRES_SCHEMA, isPlainIdentifier } from '../../adapters/postgres-store/postgres-schema.js';
import type { PostgresStoreSettings, PostgresTarget } from '../../adapters/postgres-store/connect-postgres-store.js';

export const DEFAULT_WEBHOOK_PATH = '/webhooks/keplars';

/** The options with every default applied, checked once at startup. */
export interface ResolvedKeplarsOptions {
  /** Empty on a route with `tenants`: the secrets are then looked up per request. */
  readonly secrets: readonly string[];
  readonly tenants: ResolvedTenants | undefined;
  /** Lower-case, as Node presents incoming header names. */
  readonly signatureHeader: string;
  readonly timestamp: { readonly header: string; readonly toleranceSeconds: number } | undefined;
  readonly maxBodyBytes: number;
  readonly deduplication: ResolvedDeduplication | undefined;
  readonly emitEvents: boolean;
  /** Queue mode's settings, or `undefined` in inline mode (the default). */
  readonly queue: ResolvedQueueOptions | undefined;
  /** The email ledger's settings, when it is on. */
  readonly ledger: EmailLedgerSettings | undefined;
}

export interface ResolvedDeduplication {
  readonly windowMs: number;
  /** The window of events whose id was derived from their content (never longer than `windowMs`). */
  readonly derivedIdWindowMs: number;
  readonly lockMs: number;
  readonly store: { readonly kind: 'memory'; readonly maxEvents: number } | { readonly kind: 'redis'; readonly options: KeplarsRedisStoreOptions & { readonly redis: NonNullable<KeplarsRedisStoreOptions['redis']> } } | { readonly kind: 'custom'; readonly store: KeplarsIdempotencyStore }
    | { readonly kind: 'postgres'; readonly target: PostgresTarget; readonly settings: PostgresStoreSettings };
}

export interface ResolvedTenants {
  readonly resolveSecret: KeplarsSecretResolver;
  readonly parameter: string;
  readonly cacheMs: number;
  readonly maxCachedTenants: number;
  readonly maxLookupsPerSecond: number;
  readonly timeoutMs: number;
}

export interface ResolvedRoute {
  /** The endpoint's name (`event.endpoint`). */
  readonly name: string;
  readonly path: string;
  readonly routeDecorators: readonly MethodDecorator[];
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Applies defaults and checks every option, collecting all problems before it throws. `route` (the
 * import's name and path) is checked against the options that depend on it (the tenant parameter).
 */
export function resolveKeplarsOptions(options: KeplarsWebhookOptions | undefined, route?: ResolvedRoute): ResolvedKeplarsOptions {
  const problems: string[] = [];
  const input = (options ?? {}) as Partial<KeplarsWebhookOptions> & Record<string, unknown>;
  rejectUnknownKeys(input, 'options', problems);

  const tenants = input.tenants === undefined ? undefined : resolveTenants(input.tenants, route, problems);
  let secrets: string[] = [];
  if (input.tenants === undefined) secrets = resolveSecrets(input.secret, problems);
  else if (input.secret !== undefined) {
    problems.push('give either secret (one Keplars account on this route) or tenants (a secret per tenant, looked up per request), not both.');
  }
  const signatureHeader = headerName('signatureHeader', input.signatureHeader, 'x-keplars-signature', problems);

  let timestamp: ResolvedKeplarsOptions['timestamp'];
  if (input.timestamp === true || isObject(input.timestamp)) {
    const settings = input.timestamp === true ? {} : input.timestamp;
    rejectUnknownKeys(settings, 'timestamp', problems);
    timestamp = {
      header: headerName('timestamp.header', settings.header, 'x-keplars-timestamp', problems),
      toleranceSeconds: positiveNumber('timestamp.toleranceSeconds', settings.toleranceSeconds, 300, problems),
    };
  } else if (input.timestamp !== undefined && input.timestamp !== false) {
    problems.push(`timestamp must be true, false or { header?, toleranceSeconds? } (got ${describe(input.timestamp)}).`);
  }

  const maxBodyBytes = positiveNumber('maxBodyBytes', input.maxBodyBytes, 100 * 1024, problems);
  const queue = resolveQueue(input.queue, problems);
  const deduplication = resolveDeduplication(queue ? dedupInQueueMode(input.deduplication, queue, problems) : input.deduplication, problems);

  if (input.emitEvents !== undefined && typeof input.emitEvents !== 'boolean') {
    problems.push(`emitEvents must be true or false (got ${describe(input.emitEvents)}).`);
  }

  const ledger = resolveLedger(input.ledger, deduplication, problems);

  if (problems.length > 0) throw new KeplarsConfigurationError(problems);
  return { secrets, tenants, signatureHeader, timestamp, maxBodyBytes, deduplication, emitEvents: input.emitEvents !== false, queue, ledger };
}

/** Checks the keys given to `forRootAsync()` itself, as the module is imported. */
export function checkForRootAsyncKeys(options: object): void {
  const problems: string[] = [];
  rejectUnknownKeys(options, 'forRootAsync', problems);
  if (problems.length > 0) throw new KeplarsConfigurationError(problems);
}

function resolveTenants(input: unknown, route: ResolvedRoute | undefined, problems: string[]): ResolvedTenants | undefined {
  const shape = 'tenants must be { resolveSecret: (tenant) => secret, parameter?, cacheSeconds?, maxCachedTenants?, maxLookupsPerSecond?, timeoutMs? }';
  if (!isObject(input)) {
    problems.push(`${shape} (got ${describe(input)}).`);
    return undefined;
  }
  rejectUnknownKeys(input, 'tenants', problems);
  if (typeof input.resolveSecret !== 'function') {
    problems.push(
      `tenants.resolveSecret must be a function that returns the tenant's secret (a string, a list, or undefined for an unknown tenant), e.g. (tenant) => workspaces.keplarsSecretOf(tenant) (got ${describe(input.resolveSecret)}).`,
    );
  }
  let parameter = 'tenant';
  if (input.parameter !== undefined) {
    if (typeof input.parameter === 'string' && PARAMETER_NAME.test(input.parameter)) parameter = input.parameter;
    else problems.push(`tenants.parameter must be a route parameter name such as "tenant" (got ${describe(input.parameter)}).`);
  }
  if (route !== undefined && !route.path.split('/').includes(`:${parameter}`)) {
    problems.push(
      `the path "${route.path}" has no :${parameter} parameter, so no tenant can be read from it: use a path such as "${route.path.replace(/\/$/, '')}/:${parameter}" ` +
        `(with forRootAsync(), path goes beside useFactory)${input.parameter === undefined ? ', or set tenants.parameter to the name your path uses' : ''}.`,
    );
  }
  const cacheMs = positiveNumber('tenants.cacheSeconds', input.cacheSeconds, 60, problems) * 1000;
  const maxCachedTenants = positiveNumber('tenants.maxCachedTenants', input.maxCachedTenants, 10_000, problems);
  if (!Number.isInteger(maxCachedTenants)) problems.push(`tenants.maxCachedTenants must be a whole number (got ${maxCachedTenants}).`);
  const maxLookupsPerSecond = positiveNumber('tenants.maxLookupsPerSecond', input.maxLookupsPerSecond, DEFAULT_LOOKUPS_PER_SECOND, problems);
  const timeoutMs = positiveNumber('tenants.timeoutMs', input.timeoutMs, 2000, problems);
  return { resolveSecret: input.resolveSecret, parameter, cacheMs, maxCachedTenants, maxLookupsPerSecond, timeoutMs };
}

/** Checks the route options given beside the module options (`name`, `path`, `routeDecorators`). */
export function resolveRoute(route: KeplarsWebhookRouteOptions): ResolvedRoute {
  const problems: string[] = [];
  const name = route.name ?? DEFAULT_ENDPOINT;
  if (typeof name !== 'string' || !ENDPOINT_NAME.test(name)) {
    problems.push(`name must be 1 to 64 letters, digits, "-" or "_", such as "eu" (got ${describe(name)}).`);
  }
  const path = route.path ?? DEFAULT_WEBHOOK_PATH;
  if (typeof path !== 'string' || path.trim() === '' || /[\s?#]/.test(path)) {
    problems.push(`path must be a URL path such as "/webhooks/keplars" (got ${describe(path)}).`);
  }
  const routeDecorators = route.routeDecorators ?? [];
  if (!Array.isArray(routeDecorators) || routeDecorators.some((decorator) => typeof decorator !== 'function')) {
    problems.push('routeDecorators must be a list of decorators, e.g. [Public(), SkipThrottle()] (call the decorator factories).');
  }
  if (problems.length > 0) throw new KeplarsConfigurationError(problems);
  return { name, path: path.startsWith('/') ? path : `/${path}`, routeDecorators };
}

function resolveSecrets(secret: unknown, problems: string[]): string[] {
  const fix =
    'Pass the webhook signing secret from the Keplars dashboard, e.g. forRoot(process.env.KEPLARS_WEBHOOK_SECRET), and check that the variable is set where the app starts ' +
    '(or, for a secret per tenant looked up per request, give tenants: { resolveSecret }).';
  if (secret === undefined || secret === null) {
    problems.push(`no secret was given (got ${describe(secret)}). ${fix}`);
    return [];
  }
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) problems.push(`secret is an empty list. ${fix}`);
  secrets.forEach((value, index) => {
    const name = Array.isArray(secret) ? `secret[${index}]` : 'secret';
    if (value === undefined || value === null) problems.push(`${name} is not set (got ${value}). ${fix}`);
    else if (typeof value !== 'string') problems.push(`${name} must be a string (got a ${typeof value}). ${fix}`); // never print a secret
    else if (value.trim() === '') problems.push(`${name} is empty. ${fix}`);
    else if (value.trim() !== value) {
      problems.push(`${name} starts or ends with whitespace (often a stray newline from a file or .env line): trim it, or no signature will ever match.`);
    }
  });
  return secrets as string[];
}

function resolveDeduplication(input: unknown, problems: string[]): ResolvedDeduplication | undefined {
  if (input === false) return undefined;
  if (input !== undefined && !isObject(input)) {
    problems.push(`deduplication must be false or { store?, windowSeconds?, derivedIdWindowSeconds?, lockSeconds?, maxEvents? } (got ${describe(input)}).`);
    return undefined;
  }
  const options: KeplarsDeduplicationOptions = input ?? {};
  rejectUnknownKeys(options, 'deduplication', problems);
  const windowMs = positiveNumber('deduplication.windowSeconds', options.windowSeconds, 86_400, problems) * 1000;
  const derivedIdWindowMs = resolveDerivedIdWindow(options.derivedIdWindowSeconds, windowMs, problems);
  let lockMs = positiveNumber('deduplication.lockSeconds', options.lockSeconds, 60, problems) * 1000;
  if (lockMs > MAX_TIMER_MS) {
    problems.push(
      `deduplication.lockSeconds must be at most ${Math.floor(MAX_TIMER_MS / 1000)} (about 24.8 days), the longest a Node.js timer can wait ` +
        `(got ${options.lockSeconds}); beyond it every handler would time out at once. Use the longest a handler may run, e.g. 60.`,
    );
    lockMs = 60_000;
  }
  const maxEvents = positiveNumber('deduplication.maxEvents', options.maxEvents, 100_000, problems);
  if (!Number.isInteger(maxEvents)) problems.push(`deduplication.maxEvents must be a whole number (got ${maxEvents}).`);

  const store = options.store ?? 'memory';
  if (store === 'memory') return { windowMs, derivedIdWindowMs, lockMs, store: { kind: 'memory', maxEvents } };
  if (isObject(store) && 'redis' in store) {
    rejectUnknownKeys(store, 'deduplication.store', problems);
    const redis = store.redis;
    if (redis === undefined || redis === null) {
      problems.push(`deduplication.store.redis is not set (got ${describe(redis)}): if it reads an environment variable such as process.env.REDIS_URL, set it where the app starts.`);
    } else if (typeof redis === 'string' ? !/^rediss?:\/\//.test(redis) : !isObject(redis) || typeof redis.evalsha !== 'function') {
      problems.push('deduplication.store.redis must be a URL such as "redis://localhost:6379" or an ioredis client.');
    }
    if (store.keyPrefix !== undefined && typeof store.keyPrefix !== 'string') problems.push('deduplication.store.keyPrefix must be a string.');
    if (store.operationTimeoutMs !== undefined) positiveNumber('deduplication.store.operationTimeoutMs', store.operationTimeoutMs, 0, problems);
    return { windowMs, derivedIdWindowMs, lockMs, store: { kind: 'redis', options: store as KeplarsRedisStoreOptions & { redis: string } } };
  }
  if (isObject(store) && ('postgres' in store || 'pglite' in store)) {
    const resolved = resolveSqlStore(store as KeplarsPostgresStoreOptions | KeplarsPGliteStoreOptions, problems);
    return resolved && { windowMs, derivedIdWindowMs, lockMs, store: resolved };
  }
  if (isObject(store) && typeof store.claim === 'function' && typeof store.settle === 'function') {
    return { windowMs, derivedIdWindowMs, lockMs, store: { kind: 'custom', store: store as KeplarsIdempotencyStore } };
  }
  problems.push(
    `deduplication.store must be 'memory', { redis: url or client }, { postgres: url, pg Pool or TypeORM DataSource }, { pglite: folder or PGlite } or an object with claim() and settle() (got ${describe(store)}).`,
  );
  return undefined;
}

/** `{ postgres: … }` or `{ pglite: … }`, checked: where the tables are, and the settings both share. */
function resolveSqlStore(
  store: KeplarsPostgresStoreOptions | KeplarsPGliteStoreOptions,
  problems: string[],
): { readonly kind: 'postgres'; readonly target: PostgresTarget; readonly settings: PostgresStoreSettings } | undefined {
  const before = problems.length;
  let target: PostgresTarget | undefined;
  if ('postgres' in store && 'pglite' in store) {
    problems.push('deduplication.store has both "postgres" and "pglite": name one (postgres for a server, pglite for Postgres in this process).');
  } else if ('postgres' in store) {
    rejectUnknownKeys(store, 'deduplication.store.postgres', problems);
    const { postgres } = store;
    if (postgres === undefined || postgres === null || postgres === '') {
      problems.push(`deduplication.store.postgres is not set (got ${describe(postgres)}): if it reads an environment variable such as process.env.DATABASE_URL, set it where the app starts.`);
    } else if (typeof postgres === 'string' ? !/^postgres(ql)?:\/\//.test(postgres) : !isObject(postgres) || (typeof (postgres as { query?: unknown }).query !== 'function' && typeof (postgres as { createQueryRunner?: unknown }).createQueryRunner !== 'function')) {
      problems.push('deduplication.store.postgres must be a connection string such as "postgres://user:password@localhost:5432/app", your pg Pool, or your TypeORM DataSource.');
    } else target = { postgres };
  } else {
    rejectUnknownKeys(store, 'deduplication.store.pglite', problems);
    const { pglite } = store;
    if (typeof pglite === 'string' ? pglite === '' : !isObject(pglite) || typeof pglite.query !== 'function' || typeof pglite.transaction !== 'function') {
      problems.push(`deduplication.store.pglite must be a data folder such as "./data/keplars", "memory://", or your PGlite instance (got ${describe(pglite)}).`);
    } else target = { pglite };
  }
  const schema = store.schema ?? DEFAULT_POSTGRES_SCHEMA;
  if (typeof schema !== 'string' || !isPlainIdentifier(schema)) {
    problems.push(`deduplication.store.schema must be a lower-case Postgres name (letters, digits, _; at most 63), such as "keplars_webhook" (got ${describe(schema)}).`);
  }
  const migrations = store.migrations ?? 'startup';
  if (migrations !== 'startup' && migrations !== 'manual') {
    problems.push(`deduplication.store.migrations must be 'startup' (migrate when the app starts) or 'manual' (run npx keplars-webhook migrate yourself) (got ${describe(migrations)}).`);
  }
  const operationTimeoutMs = positiveNumber('deduplication.store.operationTimeoutMs', store.operationTimeoutMs, 2000, problems);
  const pruneIntervalMs = positiveNumber('deduplication.store.pruneIntervalSeconds', store.pruneIntervalSeconds, 300, problems) * 1000;
  if (target === undefined || problems.length > before) return undefined;
  return { kind: 'postgres', target, settings: { schema, migrations, operationTimeoutMs, pruneIntervalMs } };
}

function resolveQueue(input: unknown, problems: string[]): ResolvedQueueOptions | undefined {
  if (input === undefined || input === false) return undefined;
  if (!isObject(input)) {
    problems.push(`queue must be { redis or postgres, role?, attempts?, backoff?, concurrency?, … } (got ${describe(input)}). Leave it out for inline mode.`);
    return undefined;
  }
  rejectUnknownKeys(input, 'queue', problems);
  const options = input as Partial<KeplarsQueueOptions>;
  const where = resolveQueueWhere(options, problems);
  const role = options.role ?? 'receive-and-process';
  if (!KEPLARS_QUEUE_ROLES.includes(role)) {
    problems.push(`queue.role must be ${KEPLARS_QUEUE_ROLES.map((name) => `'${name}'`).join(', ')} (got ${describe(role)}).`);
  }
  const attempts = positiveNumber('queue.attempts', options.attempts, 14, problems);
  if (!Number.isInteger(attempts)) problems.push(`queue.attempts must be a whole number (got ${attempts}).`);
  const concurrency = positiveNumber('queue.concurrency', options.concurrency, 10, problems);
  if (!Number.isInteger(concurrency)) problems.push(`queue.concurrency must be a whole number (got ${concurrency}).`);
  let backoff = { delayMs: 15_000, jitter: 0.5 };
  if (options.backoff !== undefined) {
    if (!isObject(options.backoff)) problems.push(`queue.backoff must be { delaySeconds?, jitter? } (got ${describe(options.backoff)}).`);
    else {
      rejectUnknownKeys(options.backoff, 'queue.backoff', problems);
      const jitter = options.backoff.jitter ?? 0.5;
      if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) problems.push(`queue.backoff.jitter must be a fraction from 0 to 1 (got ${describe(jitter)}).`);
      backoff = { delayMs: positiveNumber('queue.backoff.delaySeconds', options.backoff.delaySeconds, 15, problems) * 1000, jitter: Number(jitter) };
    }
  }
  return {
    ...where,
    role,
    prefix: options.prefix ?? 'bull',
    name: KEPLARS_QUEUE_NAME,
    attempts,
    backoff,
    concurrency,
    stalledMs: positiveNumber('queue.stalledSeconds', options.stalledSeconds, 30, problems) * 1000,
    operationTimeoutMs: positiveNumber('queue.operationTimeoutMs', options.operationTimeoutMs, 2000, problems),
  };
}

/**
 * Where the queue lives: exactly one of `queue.redis` (with `prefix`) and `queue.postgres` (with
 * `schema`). A key given with the value `undefined` counts as given: it is an unset variable to report.
 */
function resolveQueueWhere(options: Partial<KeplarsQueueOptions>, problems: string[]): Pick<ResolvedQueueOptions, 'redis' | 'postgres'> {
  const onRedis = Object.hasOwn(options, 'redis');
  const onPostgres = Object.hasOwn(options, 'postgres');
  if (onRedis === onPostgres) {
    problems.push(
      onRedis
        ? 'queue names both redis and postgres: give one, where the queue lives, e.g. queue: { postgres: process.env.DATABASE_URL } (and remove queue.redis).'
        : 'queue needs where to keep the deliveries: queue: { redis: process.env.REDIS_URL } or queue: { postgres: process.env.DATABASE_URL }. Leave "queue" out for inline mode.',
    );
    return {};
  }
  if (onPostgres) {
    const { postgres, schema = DEFAULT_QUEUE_SCHEMA } = options;
    if (options.prefix !== undefined) problems.push(`queue.prefix is a Redis key prefix; on Postgres the queue's namespace is queue.schema: use schema: ${JSON.stringify(String(options.prefix))} instead.`);
    if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
      problems.push(`queue.schema must be a PostgreSQL schema name: a letter or "_", then letters, digits, "_" or "$", at most 63 (got ${describe(schema)}).`);
    }
    if (postgres === undefined || postgres === null) {
      problems.push(`queue.postgres is not set (got ${describe(postgres)}): if it reads an environment variable such as process.env.DATABASE_URL, set it where the app starts.`);
    } else if (typeof postgres !== 'string' || !/^postgres(ql)?:\/\//.test(postgres)) {
      problems.push(
        `queue.postgres must be a connection string such as "postgres://user:password@localhost:5432/app" (got ${typeof postgres === 'string' ? 'a string that is not a postgres:// URL' : describe(postgres)}): ` +
          "BullMQ's Postgres backend puts the queue's own pool in queue.schema, which a pg.Pool of your app cannot be pointed at.",
      );
    }
    return { postgres: { connectionString: String(postgres), schema: String(schema) } };
  }
  const redis = options.redis;
  if (options.schema !== undefined) problems.push('queue.schema is for a queue on Postgres; on Redis the namespace is queue.prefix: use prefix instead, or postgres instead of redis.');
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) problems.push('queue.prefix must be a non-empty string.');
  if (redis === undefined || redis === null) {
    problems.push(
      `queue.redis must be a URL such as "redis://localhost:6379" or an ioredis client (got ${describe(redis)}): ` +
        'if it reads an environment variable such as process.env.REDIS_URL, set it where the app starts.',
    );
  } else if (typeof redis === 'string' ? !/^rediss?:\/\//.test(redis) : !isObject(redis) || typeof redis.duplicate !== 'function') {
    problems.push(`queue.redis must be a URL such as "redis://localhost:6379" or an ioredis client (got ${typeof redis === 'string' ? 'a string that is not a redis:// URL' : describe(redis)}).`);
  }
  return { redis: redis as ResolvedQueueOptions['redis'] };
}

/**
 * Workers in several processes must share which handlers succeeded, so queue mode keeps the marks
 * in Redis: on the queue's own Redis unless a Redis or custom store is named.
 */
function dedupInQueueMode(input: unknown, queue: ResolvedQueueOptions, problems: string[]): unknown {
  if (input === false) {
    problems.push('deduplication cannot be false in queue mode: workers keep each handler\'s success there, so a retry runs only the handlers that failed. Remove "deduplication: false".');
    return undefined;
  }
  if (input !== undefined && !isObject(input)) return input; // reported by resolveDeduplication
  const options = (input ?? {}) as KeplarsDeduplicationOptions;
  if (options.store === 'memory') {
    const shared = queue.postgres !== undefined ? 'Leave "store" out (the queue\'s Postgres is used)' : 'Leave "store" out (the queue\'s Redis is used)';
    problems.push(`deduplication.store cannot be 'memory' in queue mode: every worker must see which handlers already succeeded. ${shared} or name a Redis or Postgres store.`);
    return undefined;
  }
  // A queue on Postgres keeps the marks beside its jobs (same database, same schema: the store's tables
  // are named keplars_*), so an app with Postgres and no Redis has the whole durable path.
  if (queue.postgres !== undefined) {
    return options.store !== undefined ? options : { ...options, store: { postgres: queue.postgres.connectionString, schema: queue.postgres.schema } };
  }
  const usable = typeof queue.redis === 'string' ? /^rediss?:\/\//.test(queue.redis) : isObject(queue.redis) && typeof (queue.redis as unknown as Record<string, unknown>).evalsha === 'function';
  if (options.store !== undefined || !usable) return options; // a queue.redis that is not usable is reported once, above
  return { ...options, store: { redis: queue.redis } };
}

/**
 * One problem per key that is not an option at this level, with the keys that are. `path` and
 * `routeDecorators` returned by a `forRootAsync()` factory get their own hint: they shape the route,
 * which exists before the factory runs.
 */
function rejectUnknownKeys(input: object, level: keyof typeof KEPLARS_OPTION_KEYS, problems: string[]): void {
  const valid = KEPLARS_OPTION_KEYS[level];
  const where = level === 'options' || level === 'forRootAsync' ? '' : `${level}.`;
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(valid, key)) continue;
    if (level === 'options' && Object.hasOwn(KEPLARS_OPTION_KEYS.route, key)) {
      problems.push(
        `"${key}" was returned by the forRootAsync() factory, but it shapes the route, which exists before the factory runs: ` +
          `put it beside useFactory, as forRootAsync({ ${key}: …, useFactory, inject }).`,
      );
      continue;
    }
    const suggestion = closestKey(key, Object.keys(valid));
    const name = level === 'forRootAsync' ? `forRootAsync({ ${key} })` : `"${where}${key}"`;
    const meant = suggestion && (level === 'forRootAsync' ? suggestion : `${where}${suggestion}`);
    const of = level === 'options' ? 'The options are' : level === 'forRootAsync' ? 'forRootAsync() takes' : `The options of ${level} are`;
    problems.push(`unknown option ${name}${meant ? ` (did you mean "${meant}"?)` : ''}. ${of}: ${Object.keys(valid).join(', ')}.`);
  }
}

/** The valid key a misspelled one most likely meant (same letters ignoring case, or one or two edits away). */
function closestKey(key: string, valid: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of valid) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Content alone cannot tell Keplars' retry of an id-less event from a genuine repeat (a second open),
 * so such events are deduplicated only for as long as retries come: minutes, not the day of `windowSeconds`.
 */
export const DEFAULT_DERIVED_ID_WINDOW_SECONDS = 300;

/** The longest delay `setTimeout` keeps (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function resolveDerivedIdWindow(value: unknown, windowMs: number, problems: string[]): number {
  if (value === undefined) return Math.min(DEFAULT_DERIVED_ID_WINDOW_SECONDS * 1000, windowMs);
  const derivedMs = positiveNumber('deduplication.derivedIdWindowSeconds', value, DEFAULT_DERIVED_ID_WINDOW_SECONDS, problems) * 1000;
  if (derivedMs > windowMs) {
    problems.push(
      `deduplication.derivedIdWindowSeconds (${value}) is longer than deduplication.windowSeconds (${windowMs / 1000}): ` +
        'an event without an id would be remembered longer than one with an id. Make it at most windowSeconds.',
    );
  }
  return Math.min(derivedMs, windowMs);
}

function headerName(name: string, value: unknown, fallback: string, problems: string[]): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    problems.push(`${name} must be an HTTP header name such as "${fallback}" (got ${describe(value)}).`);
    return fallback;
  }
  return value.toLowerCase();
}

const DAY_MS = 86_400_000;
const REASONS = ['hard-bounce', 'complaint', 'soft-bounces', 'manual'] as const;

function resolveLedger(input: unknown, deduplication: ResolvedDeduplication | undefined, problems: string[]): EmailLedgerSettings | undefined {
  if (input === undefined || input === false) return undefined;
  if (input !== true && !isObject(input)) {
    problems.push(`ledger must be true, false or { retentionDays?, suppressions?, pruneIntervalSeconds? } (got ${describe(input)}).`);
    return undefined;
  }
  const settings: Record<string, any> = input === true ? {} : input;
  rejectUnknownKeys(settings, 'ledger', problems);
  const store = deduplication?.store.kind;
  if (store === undefined || store === 'redis' || store === 'custom') {
    problems.push(
      store === undefined
        ? 'ledger needs deduplication (its writes are marked like a handler\'s): remove deduplication: false, or turn the ledger off.'
        : `ledger keeps its data in memory or in Postgres, beside the deduplication store, and the store is ${store === 'redis' ? 'Redis' : 'your own'}: ` +
            "use deduplication.store { postgres: … } or { pglite: … } (or 'memory' for one instance), or turn the ledger off.",
    );
  }
  const suppressions: Record<string, any> = settings.suppressions ?? {};
  if (!isObject(suppressions)) problems.push(`ledger.suppressions must be { softBounces?, expireAfterDays?, shared? } (got ${describe(suppressions)}).`);
  else rejectUnknownKeys(suppressions, 'ledger.suppressions', problems);
  let softBounces: SuppressionPolicy['softBounces'] = { count: 3, windowMs: 7 * DAY_MS };
  if (suppressions.softBounces === false) softBounces = undefined;
  else if (suppressions.softBounces !== undefined) {
    const given = suppressions.softBounces;
    if (!isObject(given) || !Number.isInteger(given.count) || given.count < 1 || typeof given.withinDays !== 'number' || !(given.withinDays > 0)) {
      problems.push(`ledger.suppressions.softBounces must be false or { count, withinDays } with a whole count of at least 1 and a positive number of days, e.g. { count: 3, withinDays: 7 } (got ${JSON.stringify(given) ?? describe(given)}).`);
    } else softBounces = { count: given.count, windowMs: given.withinDays * DAY_MS };
  }
  const expiresAfterMs: Partial<Record<(typeof REASONS)[number], number>> = {};
  const expiry: Record<string, unknown> = suppressions.expireAfterDays ?? { 'soft-bounces': 30 };
  if (!isObject(expiry)) problems.push(`ledger.suppressions.expireAfterDays must be an object of days per reason, e.g. { 'soft-bounces': 30 } (got ${describe(expiry)}).`);
  else {
    for (const [reason, days] of Object.entries(expiry)) {
      if (!(REASONS as readonly string[]).includes(reason)) problems.push(`ledger.suppressions.expireAfterDays has "${reason}", which is no reason: use ${REASONS.map((name) => `'${name}'`).join(', ')}.`);
      else if (days !== undefined) expiresAfterMs[reason as (typeof REASONS)[number]] = positiveNumber(`ledger.suppressions.expireAfterDays['${reason}']`, days, 1, problems) * DAY_MS;
    }
  }
  if (suppressions.shared !== undefined && typeof suppressions.shared !== 'boolean') problems.push(`ledger.suppressions.shared must be true or false (got ${describe(suppressions.shared)}).`);
  return {
    policy: { softBounces, expiresAfterMs, shared: suppressions.shared === true },
    retentionMs: positiveNumber('ledger.retentionDays', settings.retentionDays, 90, problems) * DAY_MS,
    pruneIntervalMs: positiveNumber('ledger.pruneIntervalSeconds', settings.pruneIntervalSeconds, 3600, problems) * 1000,
  };
}

function positiveNumber(name: string, value: unknown, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    problems.push(`${name} must be a positive number (got ${describe(value)}).`);
    return fallback;
  }
  return value;
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (isObject(value)) return 'an object';
  return String(value);
}
