/** What `bench:tenants` and its server agree on. */
export const TENANT_PATH = '/webhooks/keplars/:tenant';
export const STATIC_PATH = '/webhooks/static';
export const STATIC_SECRET = 'whsec_bench_static_8d2f';

export const benchTenant = (i: number): string => `tenant_${String(i).padStart(5, '0')}`;
export const benchTenantSecret = (i: number): string => `whsec_bench_${benchTenant(i)}_3c9e`;
