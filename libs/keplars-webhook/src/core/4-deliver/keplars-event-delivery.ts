import { hasDerivedId } from '../3-normalize/derive-event-id.js';
import type { KeplarsEvent } from '../0-event/keplars-event.js';
import { keplarsEventKey } from './event-key.js';
import type { EventClaim, KeplarsIdempotencyStore } from '../ports/idempotency-store.js';
import { countListeners, type KeplarsHandlerRegistry } from './keplars-handler-registry.js';
import type { DeliveryOutcome, HandlerFailure } from '../0-event/delivery-outcome.js';
import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';

export interface DeliverySettings {
  readonly windowMs: number;
  /** The window of events whose id was derived from their content (see `derivedIdWindowSeconds`). */
  readonly derivedIdWindowMs: number;
  /**
   * How long a delivery's hold on an event lasts without renewal (if its process dies, another takes
   * over after this), and how long its handlers may run before the delivery answers them failed.
   */
  readonly lockMs: number;
  /**
   * Record each handler's success as soon as it returns (when the store can), not only when the
   * delivery settles: queue mode's workers can be killed mid-event, and the next one must not run
   * again what had already succeeded. @default false (one write per delivery)
   */
  readonly markEachHandler?: boolean;
}

/** What happens after a delivery was answered: told to the log, since no request is left to answer. */
export interface DeliveryLog {
  warn(message: string): void;
  error(message: string, stack?: string): void;
}

/** A handler still running when its delivery's time ran out. */
export class KeplarsHandlerTimeoutError extends Error {
  constructor(handler: string, ms: number) {
    super(
      `${handler} did not finish within ${ms / 1000} s (deduplication.lockSeconds); answered 500 so Keplars retries, ` +
        'and the event stays held (retries get 409) until it settles',
    );
    this.name = 'KeplarsHandlerTimeoutError';
  }
}

const NO_HANDLER: DeliveryOutcome = Object.freeze({ kind: 'no-handler' });
const DUPLICATE: DeliveryOutcome = Object.freeze({ kind: 'duplicate' });
const IN_PROGRESS: DeliveryOutcome = Object.freeze({ kind: 'in-progress' });

/** The outcome of the handlers' results (once recorded, with a store). */
function settledOutcome(ran: readonly KeplarsEventHandler[], { failures }: HandlerResults): DeliveryOutcome {
  return failures.length === 0 ? { kind: 'handled', handlers: ran.length, ran } : { kind: 'handler-failed', failures };
}

/**
 * `handled` told apart from `no-handler` for the operator's metrics; judged by every handler that takes
 * the type (not only those this delivery ran: on a retry the others may have succeeded already).
 */
function noHandlerIfNone(outcome: DeliveryOutcome, handlers: readonly KeplarsEventHandler[], event: KeplarsEvent): DeliveryOutcome {
  if (outcome.kind !== 'handled' || countListeners(handlers, event.type) > 0) return outcome;
  return outcome.unrecorded === undefined ? NO_HANDLER : { kind: 'no-handler', unrecorded: outcome.unrecorded };
}

/** Waits before each retry of a failed record of the handlers' success: about 1.5 s in all. */
const SETTLE_RETRY_DELAYS_MS = [50, 100, 200, 400, 800];

/**
 * Runs an event's handlers once (SPEC §4): claims the event in the idempotency store, runs the
 * matching handlers that have not yet succeeded for it, side by side, then records which succeeded.
 * A failing handler neither stops the others nor gets marked, so the next delivery retries just it.
 * Without a store (deduplication off), every delivery runs every matching handler. Events are
 * kept by {@link keplarsEventKey}: their id, namespaced by endpoint and tenant.
 *
 * The claim is held for as long as any handler runs, renewed every third of `lockMs`, and released
 * only once the success of every handler is recorded: a handler that outlives the deadline gets the
 * delivery answered 500, but no retry starts it again while it still runs. A record that fails (a
 * dropped connection) is retried with backoff, still holding the claim.
 */
export class KeplarsEventDelivery {
  constructor(
    private readonly registry: KeplarsHandlerRegistry,
    private readonly store: KeplarsIdempotencyStore | undefined,
    private readonly settings: DeliverySettings,
    private readonly log?: DeliveryLog,
  ) {}

  /**
   * The delivery's outcome: at once when nothing had to wait (a store that answers without I/O, such
   * as the memory store, and handlers that returned at once), else a promise of it.
   */
  deliver(event: KeplarsEvent): DeliveryOutcome | Promise<DeliveryOutcome> {
    const handlers = this.registry.handlersFor(event.type, event.endpoint, event.tenant);
    const outcome = this.deliverTo(handlers, event);
    return outcome instanceof Promise ? outcome.then((settled) => noHandlerIfNone(settled, handlers, event)) : noHandlerIfNone(outcome, handlers, event);
  }

  private deliverTo(handlers: readonly KeplarsEventHandler[], event: KeplarsEvent): DeliveryOutcome | Promise<DeliveryOutcome> {
    const store = this.store;
    if (store === undefined) {
      const ran = runHandlers(handlers, event);
      // Nothing to record: the outcome is the handlers' results.
      return ran instanceof Running ? ran.until(this.settings.lockMs).then((results) => settledOutcome(handlers, results)) : settledOutcome(handlers, ran);
    }

    // The same id from two endpoints (or tenants) is two events: each is kept under its own key.
    const key = keplarsEventKey(event, event.id);
    if (store.claimNow === undefined) return this.claimThenRun(store, handlers, event, key);
    let claim: EventClaim;
    try {
      claim = store.claimNow(key, this.settings.lockMs);
    } catch (error) {
      return { kind: 'store-unavailable', error };
    }
    return this.run(store, handlers, event, key, claim);
  }

  private async claimThenRun(store: KeplarsIdempotencyStore, handlers: readonly KeplarsEventHandler[], event: KeplarsEvent, key: string): Promise<DeliveryOutcome> {
    let claim: EventClaim;
    try {
      claim = await store.claim(key, this.settings.lockMs);
    } catch (error) {
      return { kind: 'store-unavailable', error };
    }
    return this.run(store, handlers, event, key, claim);
  }

  private run(store: KeplarsIdempotencyStore, handlers: readonly KeplarsEventHandler[], event: KeplarsEvent, key: string, claim: EventClaim): DeliveryOutcome | Promise<DeliveryOutcome> {
    if (claim.state === 'done') return DUPLICATE;
    if (claim.state === 'busy') return IN_PROGRESS;

    const held = claim.handled;
    const pending = held.size === 0 ? handlers : handlers.filter((handler) => !held.has(handler.name));
    const ran = runHandlers(this.prepared(pending, event, key), event);
    if (!(ran instanceof Running)) {
      // All synchronous: no timer, no renewal; and with a store that answers at once, no promise either.
      if (store.settleNow !== undefined) {
        try {
          store.settleNow(key, claim.token, ran.succeeded, ran.failures.length === 0, this.windowFor(event));
          return settledOutcome(pending, ran);
        } catch {
          // Not recorded: the retries below, with backoff, while the claim is held.
        }
      }
      return this.record(event, key, claim.token, pending, ran);
    }
    return this.whenHandlersSettle(store, event, key, claim.token, pending, ran);
  }

  private async whenHandlersSettle(
    store: KeplarsIdempotencyStore,
    event: KeplarsEvent,
    key: string,
    token: string | number,
    pending: readonly KeplarsEventHandler[],
    ran: Running,
  ): Promise<DeliveryOutcome> {
    const hold = new HeldClaim(store, event, key, token, this.settings.lockMs, this.log);
    const atDeadline = await ran.until(this.settings.lockMs);
    if (ran.settled) return this.record(event, key, token, pending, atDeadline, hold);

    // Answered now (500, Keplars retries); the claim stays held until the late handlers settle, and
    // what they achieve is recorded then, so the retry finds it.
    void ran.all.then(async (final) => {
      for (const { handler, error } of final.failures) {
        if (!atDeadline.failures.some((failure) => failure.handler === handler)) {
          this.log?.error(`Handler ${handler}, past its deadline, failed on ${event.type} ${event.id}; the next delivery runs it again.`, stackOf(error));
        }
      }
      const outcome = await this.record(event, key, token, pending, final, hold);
      if (outcome.kind === 'handled' && outcome.unrecorded !== undefined) {
        this.log?.warn(`Late handlers of ${event.type} ${event.id} succeeded, but their success could not be recorded (${messageOf(outcome.unrecorded)}): a redelivery would run them again.`);
      }
    });
    return { kind: 'handler-failed', failures: atDeadline.failures };
  }

  /** Records what succeeded, retrying a failed record while the claim is held, then lets the claim go. */
  private async record(
    event: KeplarsEvent,
    key: string,
    token: string | number,
    ran: readonly KeplarsEventHandler[],
    { succeeded, failures }: HandlerResults,
    hold?: HeldClaim,
  ): Promise<DeliveryOutcome> {
    const store = this.store!;
    const complete = failures.length === 0;
    const windowMs = this.windowFor(event);
    let unrecorded: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        await store.settle(key, token, succeeded, complete, windowMs);
        unrecorded = undefined;
        break;
      } catch (error) {
        unrecorded = error;
        if (attempt === SETTLE_RETRY_DELAYS_MS.length) break;
        hold ??= new HeldClaim(store, event, key, token, this.settings.lockMs, this.log);
        await sleep(SETTLE_RETRY_DELAYS_MS[attempt]!);
      }
    }
    hold?.release();
    // Unrecorded after every retry: the handlers ran, so 2xx keeps Keplars from sending it again; the
    // claim, never released, lapses on its own. Only a failure still asks for a retry.
    if (complete && unrecorded !== undefined) return { kind: 'handled', handlers: ran.length, ran, unrecorded };
    return settledOutcome(ran, { succeeded, failures });
  }

  private windowFor(event: KeplarsEvent): number {
    return hasDerivedId(event) ? this.settings.derivedIdWindowMs : this.settings.windowMs;
  }

  /**
   * The handlers as this delivery runs them: a transactional one inside the transaction that writes
   * its own mark (SPEC §4b; a mark already there means an earlier delivery committed it: nothing to
   * do); with `markEachHandler`, every other one recording its success as it returns.
   */
  private prepared(handlers: readonly KeplarsEventHandler[], event: KeplarsEvent, key: string): readonly KeplarsEventHandler[] {
    const store = this.store!;
    const marksEach = this.settings.markEachHandler === true && store.markHandled !== undefined;
    if (!marksEach && !handlers.some((handler) => handler.transaction !== undefined || handler.after !== undefined)) return handlers;
    const windowMs = this.windowFor(event);
    const marked = handlers.map((handler): KeplarsEventHandler => {
      if (handler.transaction !== undefined) {
        // Checked at startup: a transactional handler runs only on a store with transactions of its kind.
        return { ...handler, invoke: (event: KeplarsEvent) => store.inTransaction!(key, handler.name, windowMs, async (transaction) => handler.invoke(event, transaction)) };
      }
      if (!marksEach) return handler;
      return {
        ...handler,
        invoke: async (event: KeplarsEvent) => {
          await handler.invoke(event);
          // A mark that fails here is written again by `settle`.
          await store.markHandled!(key, handler.name, windowMs).catch(() => undefined);
        },
      };
    });
    return inOrder(marked);
  }
}

/**
 * Makes each handler with `after` wait for that handler, when it runs in the same delivery; when it
 * does not (it succeeded on an earlier delivery, or does not take the event), the waiting one runs at
 * once. If the awaited handler fails, so does the waiting one, and the next delivery runs both.
 */
function inOrder(handlers: readonly KeplarsEventHandler[]): readonly KeplarsEventHandler[] {
  const awaited = new Set(handlers.flatMap((handler) => (handler.after !== undefined && handlers.some((other) => other.name === handler.after) ? [handler.after] : [])));
  if (awaited.size === 0) return handlers;
  const outcomes = new Map<string, { promise: Promise<unknown>; settle: (result: PromiseLike<unknown> | unknown) => void }>();
  for (const name of awaited) {
    let settle!: (result: unknown) => void;
    const promise = new Promise((resolve) => (settle = resolve));
    promise.catch(() => undefined); // a failure is reported by the awaited handler itself
    outcomes.set(name, { promise, settle });
  }
  return handlers.map((handler) => {
    const own = outcomes.get(handler.name);
    const before = handler.after === undefined ? undefined : outcomes.get(handler.after);
    if (own === undefined && before === undefined) return handler;
    return {
      ...handler,
      invoke: (event: KeplarsEvent, transaction?: unknown) => {
        let returned: unknown;
        if (before === undefined) {
          try {
            returned = handler.invoke(event, transaction);
          } catch (error) {
            returned = Promise.reject(error);
          }
        } else {
          returned = before.promise.then(
            () => handler.invoke(event, transaction),
            () => {
              throw new Error(`${handler.name} waits for ${handler.after}, which failed on this delivery; both run again on the next one.`);
            },
          );
        }
        own?.settle(returned);
        return returned;
      },
    };
  });
}

/**
 * Keeps a delivery's claim on its event alive: renews it every third of `lockMs` until released. A
 * renewal that fails is tried again at the next tick; one that finds the claim gone is told once.
 */
class HeldClaim {
  private readonly timer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(
    private readonly store: KeplarsIdempotencyStore,
    private readonly event: KeplarsEvent,
    private readonly key: string,
    private readonly token: string | number,
    private readonly lockMs: number,
    private readonly log: DeliveryLog | undefined,
  ) {
    if (store.renew === undefined) return;
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(lockMs / 3)));
    this.timer.unref();
  }

  release(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    let renewed: boolean;
    try {
      renewed = await this.store.renew!(this.key, this.token, this.lockMs);
    } catch {
      return; // unreachable right now: the next tick tries again, before the claim lapses if the store is back
    }
    if (renewed || this.lost) return;
    this.lost = true;
    this.log?.warn(
      `Lost the hold on ${this.event.type} ${this.event.id} while its handlers still run (the store was unreachable for longer than lockSeconds, or it lost the key): ` +
        'another delivery may run them again.',
    );
  }
}

interface HandlerResults {
  readonly succeeded: string[];
  readonly failures: HandlerFailure[];
}

/** Handlers that returned promises, still running. */
class Running {
  /** Every handler's result once all have settled. */
  readonly all: Promise<HandlerResults>;
  settled = false;

  constructor(
    private readonly running: ReadonlyMap<KeplarsEventHandler, PromiseLike<unknown>>,
    private readonly results: HandlerResults,
  ) {
    const { succeeded, failures } = results;
    this.all = Promise.all(
      [...running].map(async ([handler, returned]) => {
        try {
          await returned;
          succeeded.push(handler.name);
        } catch (error) {
          failures.push({ handler: handler.name, error });
        }
      }),
    ).then(() => {
      this.settled = true;
      return results;
    });
  }

  /**
   * The results when all have settled, or after `timeoutMs`, whichever is first; then, those still
   * running count as failed with a {@link KeplarsHandlerTimeoutError}.
   */
  async until(timeoutMs: number): Promise<HandlerResults> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
      timer.unref();
    });
    const finished = await Promise.race([this.all, timedOut]);
    clearTimeout(timer);
    if (finished !== undefined) return finished;
    const done = new Set([...this.results.succeeded, ...this.results.failures.map((failure) => failure.handler)]);
    const late = [...this.running.keys()].filter((handler) => !done.has(handler.name));
    return {
      succeeded: [...this.results.succeeded],
      failures: [...this.results.failures, ...late.map((handler) => ({ handler: handler.name, error: new KeplarsHandlerTimeoutError(handler.name, timeoutMs) }))],
    };
  }
}

/**
 * Calls every handler at once. Those that return (or throw) synchronously are done there and then;
 * only handlers that return a promise are waited for. So a delivery to synchronous handlers costs no
 * timer and no extra promises.
 */
function runHandlers(handlers: readonly KeplarsEventHandler[], event: KeplarsEvent): HandlerResults | Running {
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
  return running === undefined ? results : new Running(running, results);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
