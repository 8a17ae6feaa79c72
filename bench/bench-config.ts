/** What the load generator and the servers under test agree on. */
export const BENCH_SECRET = 'whsec_bench_5f0c2a7e9b1d4c38a6e2';
export const WEBHOOK_PATH = '/webhooks/keplars';

export const TARGETS = ['bare', 'hmac-guard', 'handwritten', 'module', 'module-otel-api', 'module-otel-sdk'] as const;
export type TargetName = (typeof TARGETS)[number];

/**
 * The targets that run this module (with its deduplication store to fill): `module` without
 * `@opentelemetry/api` (hidden from it), `module-otel-api` with the API and no SDK, `module-otel-sdk`
 * with the SDK registered and exporting (SPEC §5: instrumentation costs <= 5 %, nothing without an SDK).
 */
export function runsTheModule(target: TargetName): boolean {
  return target === 'module' || target.startsWith('module-');
}

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export function isTargetName(value: string): value is TargetName {
  return (TARGETS as readonly string[]).includes(value);
}

export function isAdapterName(value: string): value is AdapterName {
  return (ADAPTERS as readonly string[]).includes(value);
}
