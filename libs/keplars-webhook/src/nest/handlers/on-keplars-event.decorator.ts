import type { KeplarsEventFor, KeplarsEventPattern } from '../../core/0-event/keplars-event.js';

export const KEPLARS_EVENT_HANDLER = 'keplars-webhook:event-handler';

/**
 * Which endpoints and tenants a handler takes events from (SPEC §7). Left out, it takes them from all;
 * a list takes any one of them.
 */
export interface KeplarsEventFilter {
  /** The `name` of the module import (`'default'` for an unnamed one), or a list of names. */
  endpoint?: string | readonly string[];
  /** The tenant named in the request's path (on a route with `tenants`), or a list of them. */
  tenant?: string | readonly string[];
}

/** What one `@OnKeplarsEvent()` put on a method; stacked decorators add one each. */
export interface KeplarsSubscription {
  readonly patterns: readonly unknown[];
  readonly filter: KeplarsEventFilter | undefined;
}

/**
 * Routes Keplars events to this method. Name one type, several, or a wildcard (`'*'`, `'email.*'`)
 * for every event, including types Keplars adds later. The method may be async; several methods may
 * take the same type; each runs once per event (a retry runs only those that have not yet succeeded).
 * With several Keplars accounts, `{ endpoint }` or `{ tenant }` takes only theirs.
 *
 * The parameter's type must accept the event the pattern delivers, so TypeScript flags a handler
 * typed for the wrong event, and a misspelled type.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class BounceService {
 *   @OnKeplarsEvent('email.bounced')
 *   async suppress(event: EmailBouncedEvent) {
 *     if (event.bounceType === 'hard') await this.suppressions.add(event.recipient);
 *   }
 *
 *   @OnKeplarsEvent('email.bounced', { endpoint: 'eu' }) // only the events of forRoot({ name: 'eu', … })
 *   async alertEuDesk(event: EmailBouncedEvent) {}
 * }
 * ```
 *
 * @typeParam P the pattern(s) named, kept literal so the handler's parameter can be checked against them.
 * @param patterns an event type (`'email.bounced'`), a list of them, `'email.*'` or `'*'`.
 * @param filter only the events of these endpoints (`name` of the module import) or tenants.
 * @returns a method decorator; its own type parameter `M` is the decorated method, which must accept
 * {@link KeplarsEventFor}`<P>`.
 */
export function OnKeplarsEvent<const P extends KeplarsEventPattern>(
  patterns: P | readonly P[],
  filter?: KeplarsEventFilter,
): <M extends (event: KeplarsEventFor<P>) => unknown>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void {
  const added: KeplarsSubscription = { patterns: Array.isArray(patterns) ? patterns : [patterns], filter };
  return (_target, _key, descriptor) => {
    // Stacked decorators add up: @OnKeplarsEvent('email.opened') @OnKeplarsEvent('email.clicked', { endpoint: 'eu' }).
    const method = descriptor.value as object;
    const existing: readonly KeplarsSubscription[] = Reflect.getMetadata(KEPLARS_EVENT_HANDLER, method) ?? [];
    Reflect.defineMetadata(KEPLARS_EVENT_HANDLER, [...existing, added], method);
  };
}
