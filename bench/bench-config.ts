import type { BenchEmails } from './load/signed-events.js';

/** What the load generator and the servers under test agree on. */
export const BENCH_SECRET = 'whsec_bench_5f0c2a7e9b1d4c38a6e2';
export const WEBHOOK_PATH = '/webhooks/keplars';
/** The Redis server a target that needs one connects to (set by the benchmark for its servers). */
export const REDIS_URL_ENV = 'BENCH_REDIS_URL';
/** The Postgres database a target that needs one uses, and the schema of this run's tables there. */
export const POSTGRES_URL_ENV = 'BENCH_POSTGRES_URL';
export const POSTGRES_SCHEMA_ENV = 'BENCH_POSTGRES_SCHEMA';
/** The key prefix of a `bench:queue` process's queue (see queue-app.ts). */
export const QUEUE_PREFIX_ENV = 'BENCH_QUEUE_PREFIX';

/** A SPEC §5 goal, as ratios of `hmac-guard` on the same adapter. */
export interface TargetGoal {
  readonly throughput: number;
  readonly p99: number;
}

/** What the benchmark must know about a target beyond its Nest app (which `server.ts` names). */
export interface TargetTraits {
  /** Answers a repeated event `{"duplicate":true}`: checked once before measuring. */
  readonly deduplicates: boolean;
  /** Keeps the module's bounded memory store, filled to capacity before measuring (its steady state). */
  readonly fillsMemoryStore: boolean;
  /** Connects to the Redis server at `BENCH_REDIS_URL`; the benchmark starts one of its own. */
  readonly needsRedis: boolean;
  /** Connects to the Postgres at `BENCH_POSTGRES_URL` (the machine's server), in this run's own schema. */
  readonly needsPostgres?: boolean;
  /**
   * What the server process has of OpenTelemetry: `hidden`, as an app without `@opentelemetry/api`
   * (the package is installed here, a resolve hook hides it); `api` alone (no SDK: no-op); `sdk`
   * registered and exporting. Only the module's targets look for it. @default 'api'
   */
  readonly openTelemetry?: 'hidden' | 'api' | 'sdk';
  readonly goal?: TargetGoal;
  /** Where Fastify's goal differs (the Postgres targets: Fastify's ceiling is higher, the database's cost the same). */
  readonly goalOnFastify?: TargetGoal;
  /** Reported as a ratio of this target too (the OpenTelemetry targets against plain `module`). */
  readonly comparedWith?: { readonly target: string; readonly goal?: number; readonly note: string };
  /**
   * Which emails its bodies are about (see `SignedEventSource`): one email's `delivered` each time
   * (every target but the ledger's), or the interleaved lifecycles of many. @default 'one'
   */
  readonly emails?: BenchEmails;
}

const REFERENCE: TargetTraits = { deduplicates: false, fillsMemoryStore: false, needsRedis: false };
const MODULE: TargetTraits = { deduplicates: true, fillsMemoryStore: true, needsRedis: false };

/**
 * Every target, in the order the table lists them. To add one: a line here, its Nest app module in
 * `targets/`, and that module in `server.ts`'s `APP_MODULES`.
 */
export const TARGET_TRAITS = {
  bare: REFERENCE,
  'hmac-guard': REFERENCE,
  handwritten: REFERENCE,
  // SPEC §5's peer: a Nest route wrapping @octokit/webhooks' verifyAndReceive (verify and dispatch only).
  'octokit-webhooks': REFERENCE,
  // SPEC §5: the module with its default store, memory; `module-redis`, the Redis store (from a URL).
  // It must also be at least as fast as the peer.
  module: {
    ...MODULE,
    openTelemetry: 'hidden',
    goal: { throughput: 0.92, p99: 1.15 },
    comparedWith: { target: 'octokit-webhooks', goal: 1.0, note: '>= 1.0x (the module ÷ the peer, a route wrapping @octokit/webhooks)' },
  },
  'module-redis': { deduplicates: true, fillsMemoryStore: false, needsRedis: true, openTelemetry: 'hidden', goal: { throughput: 0.8, p99: 1.3 } },
  // SPEC §5, issue 24: the Postgres store (from a URL, default options), >= 0.80x on Express, >= 0.60x on Fastify.
  'module-postgres': {
    deduplicates: true,
    fillsMemoryStore: false,
    needsRedis: false,
    needsPostgres: true,
    openTelemetry: 'hidden',
    goal: { throughput: 0.8, p99: 1.3 },
    goalOnFastify: { throughput: 0.6, p99: 1.3 },
    comparedWith: { target: 'module-redis', note: 'none (the Postgres store against the Redis store)' },
  },
  // The email ledger on Postgres (SPEC §8): `module-postgres` plus `ledger: true`, sent many emails'
  // lifecycles; >= 0.80x module-postgres.
  'module-ledger-postgres': {
    deduplicates: true,
    fillsMemoryStore: false,
    needsRedis: false,
    needsPostgres: true,
    openTelemetry: 'hidden',
    emails: 'many',
    comparedWith: { target: 'module-postgres', goal: 0.8, note: '>= 0.80x (the ledger on, against the same store without it)' },
  },
  // Issues 12 and 26: queue mode's receiving side (role 'receive': verify, write to BullMQ, answer),
  // >= 0.85x hmac-guard on Express and >= 0.70x on Fastify, p99 <= 1.5x; also reported against inline `module`.
  'module-queue': {
    deduplicates: true,
    fillsMemoryStore: false,
    needsRedis: true,
    openTelemetry: 'hidden',
    goal: { throughput: 0.85, p99: 1.5 },
    goalOnFastify: { throughput: 0.7, p99: 1.5 },
    comparedWith: { target: 'module', note: 'none (queue mode against inline with the memory store)' },
  },
  // SPEC §5, issue 24: queue mode's receiving side on Postgres, >= 0.70x on Express, >= 0.45x on Fastify.
  'module-queue-postgres': {
    deduplicates: true,
    fillsMemoryStore: false,
    needsRedis: false,
    needsPostgres: true,
    openTelemetry: 'hidden',
    goal: { throughput: 0.7, p99: 1.5 },
    goalOnFastify: { throughput: 0.45, p99: 1.5 },
    comparedWith: { target: 'module-queue', note: 'none (a queue on Postgres against a queue on Redis)' },
  },
  // SPEC §5: instrumentation with an SDK exporting costs <= 5 % of `module`; the API alone, nothing measurable.
  'module-otel-api': { ...MODULE, openTelemetry: 'api', comparedWith: { target: 'module', note: "nothing measurable (within the rounds' spread)" } },
  'module-otel-sdk': { ...MODULE, openTelemetry: 'sdk', comparedWith: { target: 'module', goal: 0.95, note: '>= 0.95x' } },
} as const satisfies Record<string, TargetTraits>;

export type TargetName = keyof typeof TARGET_TRAITS;
export const TARGETS = Object.keys(TARGET_TRAITS) as TargetName[];

/** The targets every ratio is taken against. */
export const BASELINE: TargetName = 'bare';
export const CEILING: TargetName = 'hmac-guard';

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export function traitsOf(target: TargetName): TargetTraits {
  return TARGET_TRAITS[target];
}

/** A target's goal on an adapter (most targets have one goal for both). */
export function goalOf(target: TargetName, adapter: AdapterName): TargetGoal | undefined {
  const traits: TargetTraits = TARGET_TRAITS[target];
  return adapter === 'fastify' ? (traits.goalOnFastify ?? traits.goal) : traits.goal;
}

/** The targets that run this module (`module` and every `module-…`). */
export function runsTheModule(target: TargetName): boolean {
  return target === 'module' || target.startsWith('module-');
}

export function isTargetName(value: string): value is TargetName {
  return Object.hasOwn(TARGET_TRAITS, value);
}

export function isAdapterName(value: string): value is AdapterName {
  return (ADAPTERS as readonly string[]).includes(value);
}
