import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KeplarsLog } from '../log/keplars-log.js';
import type { ResolvedDashboardAuth, ResolvedDashboardOptions } from './resolve-dashboard-options.js';

/** How the dashboard answers a request it does not let through. */
export interface DashboardRefusal {
  readonly status: 401 | 405 | 500;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const REPLAY = 'Replay dead letters with KeplarsDeadLetters or `npx keplars-webhook dead-letters replay`.';

/**
 * Requests that would make the workers run the handlers on an event Keplars never signed: adding a
 * job, or editing a job's data. Refused even when the dashboard is not read-only.
 */
const FORGING = [
  { method: 'POST', path: /\/api\/queues\/[^/]+\/add\/?$/ },
  { method: 'PATCH', path: /\/api\/queues\/[^/]+\/[^/]+\/update-data\/?$/ },
];

/**
 * What stands before the dashboard, on Express and Fastify alike: who may see it, then what they may
 * do. The framework shells only hand it the request and write its answer.
 */
export class DashboardGate {
  private readonly authenticate: (request: IncomingMessage) => Promise<DashboardRefusal | undefined>;

  constructor(
    private readonly options: ResolvedDashboardOptions,
    private readonly logger: KeplarsLog,
  ) {
    this.authenticate = authenticator(options.auth, logger);
  }

  /** `undefined` lets the request through; otherwise the answer to give. `url` is the request's full URL. */
  async check(request: IncomingMessage, url: string): Promise<DashboardRefusal | undefined> {
    const refused = await this.authenticate(request);
    if (refused) return refused;
    const method = (request.method ?? 'GET').toUpperCase();
    const pathname = url.split('?')[0] ?? '';
    if (this.options.readOnly && method !== 'GET' && method !== 'HEAD') {
      return refusal(405, `405: this dashboard is read-only (KeplarsDashboardModule readOnly: true). ${REPLAY}\n`, { Allow: 'GET, HEAD' });
    }
    if (FORGING.some((forging) => forging.method === method && forging.path.test(pathname))) {
      return refusal(405, '405: adding a job or editing its data is refused: the workers would run your handlers on an event Keplars never signed.\n');
    }
    return undefined;
  }

  /** The options it guards with (for the startup log line). */
  summary(): string {
    const who = this.options.auth.kind === 'basic' ? `basic auth for user "${this.options.auth.user}"` : 'your auth check';
    return `${this.options.readOnly ? 'read-only' : 'read-write'}, ${who}`;
  }
}

function authenticator(auth: ResolvedDashboardAuth, logger: KeplarsLog): (request: IncomingMessage) => Promise<DashboardRefusal | undefined> {
  if (auth.kind === 'basic') {
    const expected = digest(`${auth.user}:${auth.password}`);
    const challenge = refusal(401, '401: this dashboard needs its user and password.\n', { 'WWW-Authenticate': `Basic realm="${auth.realm}", charset="UTF-8"` });
    return async (request) => (basicCredentialsMatch(request.headers.authorization, expected) ? undefined : challenge);
  }
  return async (request) => {
    let allowed: unknown;
    try {
      allowed = await auth.check(request);
    } catch (error) {
      logger.error(`The dashboard's auth check threw (${(error as Error)?.message ?? String(error)}): the request was answered 500. Fix the function given as KeplarsDashboardModule's auth.`);
      return refusal(500, '500: the dashboard could not check who you are.\n');
    }
    return allowed === true ? undefined : refusal(401, '401: not allowed to see this dashboard.\n');
  };
}

/**
 * Whether an `Authorization: Basic …` header carries the expected user and password. Compared as
 * SHA-256 digests, of equal length whatever was sent, so the time taken says nothing about the password.
 */
export function basicCredentialsMatch(header: string | undefined, expected: Buffer): boolean {
  const [scheme, encoded, ...rest] = header?.trim().split(/\s+/) ?? [];
  if (scheme?.toLowerCase() !== 'basic' || !encoded || rest.length > 0) return false;
  return timingSafeEqual(digest(Buffer.from(encoded, 'base64').toString('utf8')), expected);
}

export function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refusal(status: DashboardRefusal['status'], body: string, headers: Record<string, string> = {}): DashboardRefusal {
  return { status, body, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers } };
}
