/** What the load generator and the servers under test agree on. */
export const BENCH_SECRET = 'whsec_bench_5f0c2a7e9b1d4c38a6e2';
export const WEBHOOK_PATH = '/webhooks/keplars';

export const TARGETS = ['bare', 'hmac-guard', 'handwritten', 'module'] as const;
export type TargetName = (typeof TARGETS)[number];

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export function isTargetName(value: string): value is TargetName {
  return (TARGETS as readonly string[]).includes(value);
}

export function isAdapterName(value: string): value is AdapterName {
  return (ADAPTERS as readonly string[]).includes(value);
}
