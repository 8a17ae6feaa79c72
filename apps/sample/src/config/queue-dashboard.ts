import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { KeplarsDashboardOptions } from 'nestjs-keplars-webhook';
import { queueModeIsOn } from './queue-mode.js';

/** Where the dashboard is served. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The package's dashboard of the webhook queue, in queue mode: what is waiting, running, retrying,
 * and the dead letters with every handler's last error. It shows every delivery's body, so it is
 * behind basic auth (QUEUE_DASHBOARD_USER, default "admin", and QUEUE_DASHBOARD_PASSWORD); without
 * a password it is off, and the startup log says how to turn it on. Inline, there is no queue, so no
 * dashboard either. Read-only (the module's default): a dead letter is replayed with the package's
 * `dead-letters` command, which runs only the handlers that never succeeded.
 */
export function queueDashboardOptionsFrom(config: ConfigService): KeplarsDashboardOptions {
  const password = config.get<string>('QUEUE_DASHBOARD_PASSWORD') || undefined;
  if (queueModeIsOn(config) && password === undefined) {
    new Logger('QueueDashboard').warn(
      `The queue dashboard at ${QUEUE_DASHBOARD_PATH} is off: it shows every delivery, so it needs a password. ` +
        'Set QUEUE_DASHBOARD_PASSWORD (and QUEUE_DASHBOARD_USER, default "admin") in apps/sample/.env to turn it on.',
    );
  }
  return {
    enabled: queueModeIsOn(config) && password !== undefined,
    path: QUEUE_DASHBOARD_PATH,
    auth: { user: config.get<string>('QUEUE_DASHBOARD_USER') || 'admin', password },
  };
}
