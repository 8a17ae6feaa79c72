import type { ResolvedKeplarsOptions, ResolvedRoute } from './resolve-keplars-options.js';

/** One import of the module: a route for one Keplars account, or for many tenants. */
export interface KeplarsEndpoint {
  readonly name: string;
  readonly path: string;
  readonly emitEvents: boolean;
  /** Whether it runs in queue mode. */
  readonly queued: boolean;
  /** Its queue options, in queue mode. */
  readonly queue: ResolvedKeplarsOptions['queue'];
  /** Whether its route receives requests (not so for a queue worker only, role 'process'). */
  readonly receives: boolean;
  /** The largest body it takes. */
  readonly maxBodyBytes: number;
}

/**
 * Every import of the module in this app, as each one's options are resolved. Shared by all of them
 * (it lives in the one `KeplarsHandlersModule`), so two imports with one name or one path are caught
 * at startup instead of silently shadowing each other's route or mixing their events.
 */
export class KeplarsEndpoints {
  private readonly endpoints: KeplarsEndpoint[] = [];

  /** Adds an endpoint; returns what clashes with those added before (for the startup error). */
  add(route: ResolvedRoute, options: ResolvedKeplarsOptions): string[] {
    const problems: string[] = [];
    const shape = routeShape(route.path);
    for (const other of this.endpoints) {
      if (other.name === route.name) {
        problems.push(
          `KeplarsWebhookModule is imported twice with the name "${route.name}"${route.name === 'default' ? ' (the name of an import that gives none)' : ''}: ` +
            "give each import its own name, e.g. forRoot({ name: 'eu', path: '/webhooks/keplars/eu', secret }) (beside useFactory with forRootAsync()).",
        );
      }
      if (routeShape(other.path) === shape) {
        problems.push(
          `endpoints "${other.name}" and "${route.name}" both receive on ${route.path === other.path ? `"${route.path}"` : `"${other.path}" and "${route.path}" (the same route)`}: ` +
            'only one of them would ever get the requests. Give each import its own path.',
        );
      }
    }
    const queued = options.queue !== undefined;
    const otherQueued = this.endpoints.find((endpoint) => endpoint.queued);
    if (queued && otherQueued !== undefined) {
      // One BullMQ queue ('keplars-webhook') serves the app, and each import's workers would take the
      // other's jobs with the wrong store and settings.
      problems.push(
        `endpoints "${otherQueued.name}" and "${route.name}" both use queue mode, which serves one import of KeplarsWebhookModule for now: ` +
          'put the queue on one of them (its events keep their endpoint and tenant through the queue), and let the others handle inline.',
      );
    }
    this.endpoints.push({ name: route.name, path: route.path, emitEvents: options.emitEvents, queued, queue: options.queue, receives: options.queue?.role !== 'process', maxBodyBytes: options.maxBodyBytes });
    return problems;
  }

  all(): readonly KeplarsEndpoint[] {
    return this.endpoints;
  }
}

/** Paths that match the same requests: parameter names and a trailing slash do not count. */
function routeShape(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (segment.startsWith(':') ? ':' : segment.toLowerCase()))
    .join('/');
}
