import { hasDerivedId } from '../4-normalize/derive-event-id.js';
import type { KeplarsEvent } from '../4-normalize/keplars-event.js';
import { keplarsEventKey } from '../5-deduplicate/event-key.js';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import type { KeplarsEventHandler, KeplarsHandlerRegistry } from './keplars-handler-registry.js';

export interface HandlerFailure {
  readonly handler: string;
  readonly error: unknown;
}

/** How one delivery of an event ended; the HTTP layer maps each to a status (SPEC §3). */
export type DeliveryOutcome =
  | { readonly kind: 'handled'; readonly handlers: number; readonly ran: readonly KeplarsEventHandler[]; readonly unrecorded?: unknown }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'handler-failed'; readonly failures: readonly HandlerFailure[] }
  | { readonly kind: 'store-unavailable'; readonly error: unknown };

export interface DeliverySettings {
  readonly windowMs: number;
  /** The window of events whose id was derived from their content (see `derivedIdWindowSeconds`). */
  readonly derivedIdWindowMs: number;
  /** How long a delivery holds an event; also how long its handlers may run before they count as failed. */
  readonly lockMs: number;
  /**
   * Record each handler's success as soon as it returns (when the store can), not only when the
   * delivery settles: queue mode's workers can be killed mid-event, and the next one must not run
   * again what had already succeeded. @default false (one write per delivery)
   */
  readonly markEachHandler?: boolean;
}

/** A handler still running when its delivery's time ran out. */
export class KeplarsHandlerTimeoutError extends Error {
  constructor(handler: string, ms: number) {
    super(`${handler} did not finish within ${ms / 1000} s (deduplication.lockSeconds); answered 500 so Keplars retries it`);
    this.name = 'KeplarsHandlerTimeoutError';
  }
}

/**
 * Runs an event's handlers once (SPEC §4): claims the event in the idempotency store, runs the
 * matching handlers that have not yet succeeded for it, side by side, then records which succeeded.
 * A failing handler neither stops the others nor gets marked, so the next delivery retries just it.
 * Without a store (deduplication off), every delivery runs every matching handler. Events are
 * kept by {@link keplarsEventKey}: their id, namespaced by endpoint and tenant.
 */
export class KeplarsEventDelivery {
  constructor(
    private readonly registry: KeplarsHandlerRegistry,
    private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly settings: DeliverySettings,
  ) {}

  async deliver(event: KeplarsEvent): Promise<DeliveryOutcome> {
    const handlers = this.registry.handlersFor(event.type, event.endpoint, event.tenant);
    if (this.store === undefined) {
      const ran = runHandlers(handlers, event, this.settings.lockMs);
      const { failures } = ran instanceof Promise ? await ran : ran;
      return failures.length > 0 ? { kind: 'handler-failed', failures } : { kind: 'handled', handlers: handlers.length, ran: handlers };
    }

    // The same id from two endpoints (or tenants) is two events: each is kept under its own key.
    const key = keplarsEventKey(event, event.id);
    let claim;
    try {
      claim = await this.store.claim(key, this.settings.lockMs);
    } catch (error) {
      return { kind: 'store-unavailable', error };
    }
    if (claim.state === 'done') return { kind: 'duplicate' };
    if (claim.state === 'busy') return { kind: 'in-progress' };

    const pending = claim.handled.size === 0 ? handlers : handlers.filter((handler) => !claim.handled.has(handler.name));
    const ran = runHandlers(this.settings.markEachHandler ? this.markingEach(pending, key) : pending, event, this.settings.lockMs);
    const { succeeded, failures } = ran instanceof Promise ? await ran : ran; // nothing to wait for when all were synchronous
    const complete = failures.length === 0;
    try {
      const windowMs = hasDerivedId(event) ? this.settings.derivedIdWindowMs : this.settings.windowMs;
      await this.store.settle(key, claim.token, succeeded, complete, windowMs);
    } catch (error) {
      // The handlers ran; answering 2xx keeps Keplars from sending it again. The lock, still held,
      // expires on its own.
      if (complete) return { kind: 'handled', handlers: pending.length, ran: pending, unrecorded: error };
    }
    return complete ? { kind: 'handled', handlers: pending.length, ran: pending } : { kind: 'handler-failed', failures };
  }

  /** The handlers, each recording its own success in the store as it returns. */
  private markingEach(handlers: readonly KeplarsEventHandler[], eventId: string): readonly KeplarsEventHandler[] {
    const store = this.store;
    if (!store?.markHandled) return handlers;
    const { windowMs } = this.settings;
    return handlers.map((handler) => ({
      ...handler,
      invoke: async (event: KeplarsEvent) => {
        await handler.invoke(event);
        // A mark that fails here is written again by `settle`.
        await store.markHandled!(eventId, handler.name, windowMs).catch(() => undefined);
      },
    }));
  }
}

interface HandlerResults {
  readonly succeeded: string[];
  readonly failures: HandlerFailure[];
}

/**
 * Calls every handler at once. Those that return (or throw) synchronously are done there and then;
 * only handlers that return a promise are waited for, and no longer than `timeoutMs`. So a delivery
 * to synchronous handlers costs no timer and no extra promises.
 */
function runHandlers(handlers: readonly KeplarsEventHandler[], event: KeplarsEvent, timeoutMs: number): HandlerResults | Promise<HandlerResults> {
  const results: HandlerResults = { succeeded: [], failures: [] };
  let running: Map<KeplarsEventHandler, PromiseLike<unknown>> | undefined;
  for (const handler of handlers) {
    try {
      const returned = handler.invoke(event);
      if (isPromiseLike(returned)) (running ??= new Map()).set(handler, returned);
      else results.succeeded.push(handler.name);
    } catch (error) {
      results.failures.push({ handler: handler.name, error });
    }
  }
  return running === undefined ? results : awaitHandlers(running, results, timeoutMs);
}

async function awaitHandlers(running: ReadonlyMap<KeplarsEventHandler, PromiseLike<unknown>>, results: HandlerResults, timeoutMs: number): Promise<HandlerResults> {
  const { succeeded, failures } = results;
  const finished = new Set<KeplarsEventHandler>();
  const all = Promise.all(
    [...running].map(async ([handler, returned]) => {
      try {
        await returned;
        succeeded.push(handler.name);
      } catch (error) {
        failures.push({ handler: handler.name, error });
      }
      finished.add(handler);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<true>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, true);
    timer.unref();
  });
  if ((await Promise.race([all, timedOut])) === true) {
    // Whatever is still running is not marked: a late success is simply run again on the retry.
    const late = [...running.keys()].filter((handler) => !finished.has(handler));
    return {
      succeeded: [...succeeded],
      failures: [...failures, ...late.map((handler) => ({ handler: handler.name, error: new KeplarsHandlerTimeoutError(handler.name, timeoutMs) }))],
    };
  }
  clearTimeout(timer);
  return results;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
