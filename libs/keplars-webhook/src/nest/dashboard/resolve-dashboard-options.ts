import type { KeplarsDashboardAuthHook, KeplarsDashboardOptions } from './keplars-dashboard.options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

/** Who may see the dashboard, checked: basic auth for one user, or the app's own check. */
export type ResolvedDashboardAuth =
  | { readonly kind: 'basic'; readonly user: string; readonly password: string; readonly realm: string }
  | { readonly kind: 'hook'; readonly check: KeplarsDashboardAuthHook };

export interface ResolvedDashboardOptions {
  readonly enabled: true;
  readonly auth: ResolvedDashboardAuth;
  /** Begins with `/`, no trailing `/`, never the root. */
  readonly path: string;
  readonly readOnly: boolean;
  readonly title: string;
}

export const DEFAULT_DASHBOARD_PATH = '/admin/queues';
const DEFAULT_REALM = 'Keplars dashboard';
const DEFAULT_TITLE = 'Keplars webhooks';
const KNOWN_KEYS = ['auth', 'path', 'readOnly', 'title', 'enabled'];

/** A dashboard turned off by `enabled: false`: nothing is mounted, and no auth is needed. */
export interface DisabledDashboardOptions {
  readonly enabled: false;
  readonly path: string;
}

const ADD_AUTH =
  "Add auth: { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD } (HTTP basic auth), " +
  'or auth: (request) => yourCheck(request) (your own check: true lets the request through).';

/**
 * Applies the defaults and checks every option of `KeplarsDashboardModule`, collecting all problems
 * before it throws, so a dashboard that would be open to anyone never starts.
 */
export function resolveDashboardOptions(options: KeplarsDashboardOptions | undefined): ResolvedDashboardOptions | DisabledDashboardOptions {
  const problems: string[] = [];
  const input = (typeof options === 'object' && options !== null ? options : {}) as Partial<KeplarsDashboardOptions>;
  for (const key of Object.keys(input).filter((key) => !KNOWN_KEYS.includes(key))) {
    problems.push(`unknown option "${key}". The options are: ${KNOWN_KEYS.join(', ')}.`);
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') problems.push(`enabled must be true or false (got ${describe(input.enabled)}).`);
  const path = resolvePath(input.path, problems);
  if (input.enabled === false && problems.length === 0) return { enabled: false, path };
  const auth = resolveAuth(input.auth, problems);
  if (input.readOnly !== undefined && typeof input.readOnly !== 'boolean') problems.push(`readOnly must be true or false (got ${describe(input.readOnly)}).`);
  if (input.title !== undefined && (typeof input.title !== 'string' || input.title.trim() === '')) problems.push(`title must be a non-empty string (got ${describe(input.title)}).`);
  if (problems.length > 0 || auth === undefined) throw new KeplarsConfigurationError(problems, 'KeplarsDashboardModule');
  return { enabled: true, auth, path, readOnly: input.readOnly ?? true, title: input.title ?? DEFAULT_TITLE };
}

function resolveAuth(auth: unknown, problems: string[]): ResolvedDashboardAuth | undefined {
  if (typeof auth === 'function') return { kind: 'hook', check: auth as KeplarsDashboardAuthHook };
  if (auth === undefined || auth === null) {
    problems.push(`auth is not set: the dashboard shows every delivery's body (recipients, subjects), so it never starts open to anyone. ${ADD_AUTH}`);
    return undefined;
  }
  if (typeof auth !== 'object' || Array.isArray(auth)) {
    problems.push(`auth must be { user, password } or a function (got ${describe(auth)}). ${ADD_AUTH}`);
    return undefined;
  }
  const { user, password, realm } = auth as Record<string, unknown>;
  const before = problems.length;
  if (typeof user !== 'string' || user.trim() === '') {
    problems.push(`auth.user must be a non-empty string (got ${describe(user)}), e.g. auth: { user: 'admin', password }.`);
  } else if (user.includes(':')) {
    problems.push(`auth.user must not contain ":" (HTTP basic auth cannot carry one in a user name).`);
  }
  // Never print the password itself, not even in a startup error.
  if (password === undefined || password === null) {
    problems.push(`auth.password is not set (got ${password}): is its environment variable (e.g. QUEUE_DASHBOARD_PASSWORD) set where the app runs? ${ADD_AUTH}`);
  } else if (typeof password !== 'string') {
    problems.push(`auth.password must be a string (got a ${typeof password}).`);
  } else if (password === '') {
    problems.push(`auth.password is empty: give the dashboard a password (e.g. QUEUE_DASHBOARD_PASSWORD in the environment). ${ADD_AUTH}`);
  }
  if (realm !== undefined && (typeof realm !== 'string' || realm.trim() === '' || realm.includes('"'))) {
    problems.push(`auth.realm must be a non-empty string without '"' (got ${describe(realm)}).`);
  }
  if (problems.length > before) return undefined;
  return { kind: 'basic', user: user as string, password: password as string, realm: (realm as string | undefined) ?? DEFAULT_REALM };
}

function resolvePath(path: unknown, problems: string[]): string {
  if (path === undefined) return DEFAULT_DASHBOARD_PATH;
  if (typeof path !== 'string') {
    problems.push(`path must be a string such as "${DEFAULT_DASHBOARD_PATH}" (got ${describe(path)}).`);
    return DEFAULT_DASHBOARD_PATH;
  }
  const normalized = `/${path.split('/').filter((segment) => segment !== '').join('/')}`;
  if (normalized === '/') {
    problems.push(`path must not be the root ("${path}"): the dashboard would answer every request of the app. Use e.g. "${DEFAULT_DASHBOARD_PATH}".`);
  } else if (!/^[A-Za-z0-9._~/-]+$/.test(normalized)) {
    problems.push(`path must be plain segments of letters, digits, ".", "_", "~" and "-", such as "${DEFAULT_DASHBOARD_PATH}" (got ${describe(path)}): no parameters or wildcards.`);
  }
  return normalized;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
