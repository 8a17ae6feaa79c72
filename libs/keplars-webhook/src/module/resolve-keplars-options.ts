import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import type {
  KeplarsDeduplicationOptions,
  KeplarsRedisStoreOptions,
  KeplarsWebhookOptions,
  KeplarsWebhookRouteOptions,
} from './keplars-webhook.options.js';

export const DEFAULT_WEBHOOK_PATH = '/webhooks/keplars';

/** The options with every default applied, checked once at startup. */
export interface ResolvedKeplarsOptions {
  readonly secrets: readonly string[];
  /** Lower-case, as Node presents incoming header names. */
  readonly signatureHeader: string;
  readonly timestamp: { readonly header: string; readonly toleranceSeconds: number } | undefined;
  readonly maxBodyBytes: number;
  readonly deduplication: ResolvedDeduplication | undefined;
  readonly emitEvents: boolean;
}

export interface ResolvedDeduplication {
  readonly windowMs: number;
  readonly lockMs: number;
  readonly store: { readonly kind: 'memory'; readonly maxEvents: number } | { readonly kind: 'redis'; readonly options: KeplarsRedisStoreOptions } | { readonly kind: 'custom'; readonly store: KeplarsIdempotencyStore };
}

export interface ResolvedRoute {
  readonly path: string;
  readonly routeDecorators: readonly MethodDecorator[];
}

/** A configuration the module refuses to start with; the message lists every problem and its fix. */
export class KeplarsConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`KeplarsWebhookModule cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'KeplarsConfigurationError';
  }
}

const OPTION_NAMES = ['secret', 'signatureHeader', 'timestamp', 'maxBodyBytes', 'deduplication', 'emitEvents'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Applies defaults and checks every option, collecting all problems before it throws. */
export function resolveKeplarsOptions(options: KeplarsWebhookOptions | undefined): ResolvedKeplarsOptions {
  const problems: string[] = [];
  const input = (options ?? {}) as Partial<KeplarsWebhookOptions> & Record<string, unknown>;
  for (const name of Object.keys(input)) {
    if (!OPTION_NAMES.includes(name)) problems.push(`unknown option "${name}". The options are: ${OPTION_NAMES.join(', ')}.`);
  }

  const secrets = resolveSecrets(input.secret, problems);
  const signatureHeader = headerName('signatureHeader', input.signatureHeader, 'x-keplars-signature', problems);

  let timestamp: ResolvedKeplarsOptions['timestamp'];
  if (input.timestamp === true || isObject(input.timestamp)) {
    const settings = input.timestamp === true ? {} : input.timestamp;
    timestamp = {
      header: headerName('timestamp.header', settings.header, 'x-keplars-timestamp', problems),
      toleranceSeconds: positiveNumber('timestamp.toleranceSeconds', settings.toleranceSeconds, 300, problems),
    };
  } else if (input.timestamp !== undefined && input.timestamp !== false) {
    problems.push(`timestamp must be true, false or { header?, toleranceSeconds? } (got ${describe(input.timestamp)}).`);
  }

  const maxBodyBytes = positiveNumber('maxBodyBytes', input.maxBodyBytes, 100 * 1024, problems);
  const deduplication = resolveDeduplication(input.deduplication, problems);

  if (input.emitEvents !== undefined && typeof input.emitEvents !== 'boolean') {
    problems.push(`emitEvents must be true or false (got ${describe(input.emitEvents)}).`);
  }

  if (problems.length > 0) throw new KeplarsConfigurationError(problems);
  return { secrets, signatureHeader, timestamp, maxBodyBytes, deduplication, emitEvents: input.emitEvents !== false };
}

/** Checks the route options given beside the module options (`path`, `routeDecorators`). */
export function resolveRoute(route: KeplarsWebhookRouteOptions): ResolvedRoute {
  const problems: string[] = [];
  const path = route.path ?? DEFAULT_WEBHOOK_PATH;
  if (typeof path !== 'string' || path.trim() === '' || /[\s?#]/.test(path)) {
    problems.push(`path must be a URL path such as "/webhooks/keplars" (got ${describe(path)}).`);
  }
  const routeDecorators = route.routeDecorators ?? [];
  if (!Array.isArray(routeDecorators) || routeDecorators.some((decorator) => typeof decorator !== 'function')) {
    problems.push('routeDecorators must be a list of decorators, e.g. [Public(), SkipThrottle()] (call the decorator factories).');
  }
  if (problems.length > 0) throw new KeplarsConfigurationError(problems);
  return { path: path.startsWith('/') ? path : `/${path}`, routeDecorators };
}

function resolveSecrets(secret: unknown, problems: string[]): string[] {
  const fix = 'Pass the webhook signing secret from the Keplars dashboard, e.g. forRoot(process.env.KEPLARS_WEBHOOK_SECRET), and check that the variable is set where the app starts.';
  if (secret === undefined || secret === null) {
    problems.push(`no secret was given (got ${describe(secret)}). ${fix}`);
    return [];
  }
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) problems.push(`secret is an empty list. ${fix}`);
  secrets.forEach((value, index) => {
    const name = Array.isArray(secret) ? `secret[${index}]` : 'secret';
    if (typeof value !== 'string') problems.push(`${name} must be a string (got ${value === null ? 'null' : `a ${typeof value}`}). ${fix}`); // never print a secret
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
    problems.push(`deduplication must be false or { store?, windowSeconds?, lockSeconds?, maxEvents? } (got ${describe(input)}).`);
    return undefined;
  }
  const options: KeplarsDeduplicationOptions = input ?? {};
  const windowMs = positiveNumber('deduplication.windowSeconds', options.windowSeconds, 86_400, problems) * 1000;
  const lockMs = positiveNumber('deduplication.lockSeconds', options.lockSeconds, 60, problems) * 1000;
  const maxEvents = positiveNumber('deduplication.maxEvents', options.maxEvents, 100_000, problems);
  if (!Number.isInteger(maxEvents)) problems.push(`deduplication.maxEvents must be a whole number (got ${maxEvents}).`);

  const store = options.store ?? 'memory';
  if (store === 'memory') return { windowMs, lockMs, store: { kind: 'memory', maxEvents } };
  if (isObject(store) && 'redis' in store) {
    const redis = store.redis;
    if (typeof redis === 'string' ? !/^rediss?:\/\//.test(redis) : !isObject(redis) || typeof redis.evalsha !== 'function') {
      problems.push('deduplication.store.redis must be a URL such as "redis://localhost:6379" or an ioredis client.');
    }
    if (store.keyPrefix !== undefined && typeof store.keyPrefix !== 'string') problems.push('deduplication.store.keyPrefix must be a string.');
    if (store.operationTimeoutMs !== undefined) positiveNumber('deduplication.store.operationTimeoutMs', store.operationTimeoutMs, 0, problems);
    return { windowMs, lockMs, store: { kind: 'redis', options: store } };
  }
  if (isObject(store) && typeof store.claim === 'function' && typeof store.settle === 'function') {
    return { windowMs, lockMs, store: { kind: 'custom', store: store as KeplarsIdempotencyStore } };
  }
  problems.push(`deduplication.store must be 'memory', { redis: url or client } or an object with claim() and settle() (got ${describe(store)}).`);
  return undefined;
}

function headerName(name: string, value: unknown, fallback: string, problems: string[]): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    problems.push(`${name} must be an HTTP header name such as "${fallback}" (got ${describe(value)}).`);
    return fallback;
  }
  return value.toLowerCase();
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
