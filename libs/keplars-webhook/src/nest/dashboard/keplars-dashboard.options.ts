import type { IncomingMessage } from 'node:http';

/**
 * HTTP basic authentication for one user: the browser asks for the user and password. The password
 * is compared in constant time.
 *
 * @example { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD }
 */
export interface KeplarsDashboardBasicAuth {
  /** The user name (no `:`: basic auth cannot carry one in a user name). */
  user: string;
  /** The password. `undefined` (an unset environment variable) stops the app at startup. */
  password: string | undefined;
  /** The name the browser shows in its login prompt. @default 'Keplars dashboard' */
  realm?: string;
}

/**
 * Your own check, for a dashboard behind the app's login (a session cookie, a header set by your
 * proxy, an IP allow-list): `true` lets the request through, `false` answers it 401. It sees every
 * request to the dashboard, its pages, scripts and API calls. A check that throws answers 500 and
 * logs why.
 *
 * The request is Node's: on Express it is Express's own request object (with what your middleware
 * put on it, such as `session`); on Fastify it is Fastify's `request.raw`.
 *
 * @example (request) => request.headers['x-forwarded-user'] === 'ops'
 */
export type KeplarsDashboardAuthHook = (request: IncomingMessage) => boolean | Promise<boolean>;

/**
 * The queue-mode dashboard (bull-board) on the webhook queue: what is waiting, running, retrying,
 * and the dead letters with each handler's last error. It shows every delivery's body, so it never
 * starts without `auth`. Needs `@bull-board/api` and `@bull-board/express` or `@bull-board/fastify`,
 * at one version.
 *
 * @example
 * KeplarsDashboardModule.forRoot({ auth: { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD } })
 */
export interface KeplarsDashboardOptions {
  /**
   * Who may see the dashboard: a user and password (HTTP basic auth), or your own check. Required:
   * a dashboard without it stops the app at startup.
   */
  auth: KeplarsDashboardBasicAuth | KeplarsDashboardAuthHook | undefined;
  /** Where the dashboard is served, under the app's global prefix like a controller's route. @default '/admin/queues' */
  path?: string;
  /**
   * Read-only: every request but GET and HEAD is answered 405, and the page shows no button that
   * changes the queue. Replay dead letters with `KeplarsDeadLetters` or `npx keplars-webhook
   * dead-letters replay`. With `false`, the dashboard can retry, promote, clean and remove jobs and
   * pause the queue; adding a job or editing a job's data is still refused (the workers would run your
   * handlers on an event Keplars never signed).
   * @default true
   */
  readOnly?: boolean;
  /** The page's title. @default 'Keplars webhooks' */
  title?: string;
  /**
   * `false` mounts nothing and needs no `auth`: to turn the dashboard on by configuration, since an
   * import cannot depend on it (e.g. `enabled: Boolean(config.get('QUEUE_DASHBOARD_PASSWORD'))`).
   * @default true
   */
  enabled?: boolean;
}
