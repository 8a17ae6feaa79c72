import { DEFAULT_ENDPOINT, type KeplarsEvent } from '../0-event/keplars-event.js';
import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';

/** How many of the app's handlers and listeners a run of these entries called (for the app's developer). */
export function countListeners(ran: readonly KeplarsEventHandler[], type: string): number {
  let count = 0;
  for (const handler of ran) count += handler.listenerCount?.(type) ?? 1;
  return count;
}

const MAX_CACHED_TYPES = 256;
const NO_HANDLERS: readonly KeplarsEventHandler[] = Object.freeze([]);

/**
 * The handlers found at startup, and which of them take a given event. One registry serves every
 * import of the module (every endpoint), so a handler is found, checked and logged once.
 */
export class KeplarsHandlerRegistry {
  private readonly handlers: KeplarsEventHandler[] = [];
  /** endpoint → type → handlers, before any tenant filter. */
  private readonly byEndpoint = new Map<string, Map<string, readonly KeplarsEventHandler[]>>();
  private filtersByTenant = false;

  /** @param prepare applied to each handler as it is added (the module's telemetry wraps it there). */
  constructor(private readonly prepare: (handler: KeplarsEventHandler) => KeplarsEventHandler = (handler) => handler) {}

  add(handler: KeplarsEventHandler): void {
    this.handlers.push(this.prepare(handler));
    this.filtersByTenant ||= handler.subscriptions?.some((subscription) => subscription.tenants !== undefined) ?? false;
    this.byEndpoint.clear();
  }

  all(): readonly KeplarsEventHandler[] {
    return this.handlers;
  }

  /** The handlers that take an event of this type, from this endpoint and tenant. */
  handlersFor(type: string, endpoint: string = DEFAULT_ENDPOINT, tenant?: string): readonly KeplarsEventHandler[] {
    let byType = this.byEndpoint.get(endpoint);
    if (byType === undefined) {
      byType = new Map();
      this.byEndpoint.set(endpoint, byType); // endpoints are the app's own imports: few
    }
    let matching = byType.get(type);
    if (matching === undefined) {
      matching = this.handlers.filter((handler) => takes(handler, type, endpoint, undefined));
      // Types come from signed requests, but keep the cache bounded all the same.
      if (byType.size < MAX_CACHED_TYPES) byType.set(type, matching);
    }
    // Tenants are many and come from the URL: filtered per event, never cached.
    if (!this.filtersByTenant || matching.length === 0) return matching;
    const forTenant = matching.filter((handler) => takes(handler, type, endpoint, tenant ?? null));
    return forTenant.length === 0 ? NO_HANDLERS : forTenant;
  }
}

/** `tenant` `undefined`: tenant filters not looked at yet; `null`: the event has no tenant. */
function takes(handler: KeplarsEventHandler, type: string, endpoint: string, tenant: string | null | undefined): boolean {
  // An `@OnEvent()` listener decides its types itself (the event emitter's own wildcards).
  const takesType = (patterns: readonly string[]) => (handler.matches === undefined ? patterns.some((pattern) => patternMatches(pattern, type)) : handler.matches(type));
  if (handler.subscriptions === undefined) return takesType(handler.patterns);
  return handler.subscriptions.some(
    (subscription) =>
      (subscription.endpoints === undefined || subscription.endpoints.includes(endpoint)) &&
      (tenant === undefined || subscription.tenants === undefined || (tenant !== null && subscription.tenants.includes(tenant))) &&
      takesType(subscription.patterns),
  );
}

/** `'*'` matches every type, `'email.*'` every type under `email.`, anything else only itself. */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
