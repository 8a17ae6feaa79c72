import type { KeplarsEvent } from '../4-normalize/keplars-event.js';
import type { KeplarsIdempotencyStore } from '../5-deduplicate/idempotency-store.js';
import type { KeplarsEventHandler, KeplarsHandlerRegistry } from './keplars-handler-registry.js';

export interface HandlerFailure {
  readonly handler: string;
  readonly error: unknown;
}

/** How one delivery of an event ended; the HTTP layer maps each to a status (SPEC §3). */
export type DeliveryOutcome =
  | { readonly kind: 'handled'; readonly handlers: number; readonly unrecorded?: unknown }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'handler-failed'; readonly failures: readonly HandlerFailure[] }
  | { readonly kind: 'store-unavailable'; readonly error: unknown };

export interface DeliverySettings {
  readonly windowMs: number;
  /** How long a delivery holds an event; also how long its handlers may run before they count as failed. */
  readonly lockMs: number;
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
 * Without a store (deduplication off), every delivery runs every matching handler.
 */
export class KeplarsEventDelivery {
  constructor(
    private readonly registry: KeplarsHandlerRegistry,
    private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly settings: DeliverySettings,
  ) {}

  async deliver(event: KeplarsEvent): Promise<DeliveryOutcome> {
    const handlers = this.registry.handlersFor(event.type);
    if (this.store === undefined) {
      const { failures } = await runHandlers(handlers, event, this.settings.lockMs);
      return failures.length > 0 ? { kind: 'handler-failed', failures } : { kind: 'handled', handlers: handlers.length };
    }

    let claim;
    try {
      claim = await this.store.claim(event.id, this.settings.lockMs);
    } catch (error) {
      return { kind: 'store-unavailable', error };
    }
    if (claim.state === 'done') return { kind: 'duplicate' };
    if (claim.state === 'busy') return { kind: 'in-progress' };

    const pending = claim.handled.size === 0 ? handlers : handlers.filter((handler) => !claim.handled.has(handler.name));
    const { succeeded, failures } = await runHandlers(pending, event, this.settings.lockMs);
    const complete = failures.length === 0;
    try {
      await this.store.settle(event.id, claim.token, succeeded, complete, this.settings.windowMs);
    } catch (error) {
      // The handlers ran; answering 2xx keeps Keplars from sending it again. The lock, still held,
      // expires on its own.
      if (complete) return { kind: 'handled', handlers: pending.length, unrecorded: error };
    }
    return complete ? { kind: 'handled', handlers: pending.length } : { kind: 'handler-failed', failures };
  }
}

async function runHandlers(
  handlers: readonly KeplarsEventHandler[],
  event: KeplarsEvent,
  timeoutMs: number,
): Promise<{ succeeded: string[]; failures: HandlerFailure[] }> {
  const succeeded: string[] = [];
  const failures: HandlerFailure[] = [];
  if (handlers.length === 0) return { succeeded, failures };
  const finished = new Set<KeplarsEventHandler>();
  const all = Promise.all(
    handlers.map(async (handler) => {
      try {
        await handler.invoke(event);
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
    const late = handlers.filter((handler) => !finished.has(handler));
    return {
      succeeded: [...succeeded],
      failures: [...failures, ...late.map((handler) => ({ handler: handler.name, error: new KeplarsHandlerTimeoutError(handler.name, timeoutMs) }))],
    };
  }
  clearTimeout(timer);
  return { succeeded, failures };
}
