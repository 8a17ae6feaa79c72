import type { KeplarsEventFor, KeplarsEventPattern } from '../4-normalize/keplars-event.js';

export const KEPLARS_EVENT_HANDLER = 'keplars-webhook:event-handler';

/**
 * Routes Keplars events to this method. Name one type, several, or a wildcard (`'*'`, `'email.*'`)
 * for every event, including types Keplars adds later. The method may be async; several methods may
 * take the same type; each runs once per event (a retry runs only those that have not yet succeeded).
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
 * }
 * ```
 */
export function OnKeplarsEvent<const P extends KeplarsEventPattern>(
  patterns: P | readonly P[],
): <M extends (event: KeplarsEventFor<P>) => unknown>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void {
  const added: readonly unknown[] = Array.isArray(patterns) ? patterns : [patterns];
  return (_target, _key, descriptor) => {
    // Stacked decorators add up: @OnKeplarsEvent('email.opened') @OnKeplarsEvent('email.clicked').
    const method = descriptor.value as object;
    const existing: readonly unknown[] = Reflect.getMetadata(KEPLARS_EVENT_HANDLER, method) ?? [];
    Reflect.defineMetadata(KEPLARS_EVENT_HANDLER, [...existing, ...added], method);
  };
}
