import type { KeplarsEventFor, KeplarsEventPattern } from '../../core/0-event/keplars-event.js';
import type { KeplarsTransactionKind } from '../../core/0-event/keplars-event-handler.js';

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

/**
 * What a transactional handler's second parameter must offer, by the kind it asks for: enough of the
 * driver's own type to tell the three apart, without this package importing any of them. Type the
 * parameter as the driver's type (`PoolClient` from `pg`, `EntityManager` from `typeorm`,
 * `Transaction` from `@electric-sql/pglite`); a parameter typed for another kind does not compile.
 */
export interface KeplarsTransactionShapes {
  /** A `pg` `PoolClient`: the client of the open transaction (do not release it, nor COMMIT). */
  pg: KeplarsPgTransactionShape;
  /** A TypeORM `EntityManager` on the open transaction. */
  typeorm: KeplarsTypeOrmTransactionShape;
  /** A PGlite `Transaction`. */
  pglite: KeplarsPGliteTransactionShape;
}

/** What tells a `pg` `PoolClient` apart (the transactional handler's parameter must have it). */
export interface KeplarsPgTransactionShape {
  /** Runs a statement in the transaction. */
  query: (...args: never[]) => unknown;
  /** A pool client's: the module releases it, never the handler. */
  release: (...args: never[]) => unknown;
  /** A `pg` client's own quoting helper. */
  escapeLiteral: (...args: never[]) => unknown;
}

/** What tells a TypeORM `EntityManager` apart. */
export interface KeplarsTypeOrmTransactionShape {
  /** Runs a statement in the transaction. */
  query: (...args: never[]) => unknown;
  /** The entity repositories, bound to the transaction. */
  getRepository: (...args: never[]) => unknown;
}

/** What tells a PGlite `Transaction` apart. */
export interface KeplarsPGliteTransactionShape {
  /** Runs a statement in the transaction. */
  query: (...args: never[]) => unknown;
  /** A PGlite transaction's own: the module commits or rolls back, never the handler. */
  rollback: (...args: never[]) => unknown;
}

/**
 * Nothing when the method's second parameter is typed for the transaction `K` gives; otherwise a
 * property the descriptor lacks, whose name TypeScript's error then shows.
 *
 * @typeParam M the decorated method.
 * @typeParam K the kind of transaction it asked for.
 */
export type KeplarsTransactionParameterCheck<M extends (...args: never[]) => unknown, K extends KeplarsTransactionKind> =
  Parameters<M>[1] extends KeplarsTransactionShapes[K] ? unknown : KeplarsTransactionParameterMismatch<K>;

/** What a transactional handler typed for the wrong transaction is told it lacks. */
export interface KeplarsTransactionParameterMismatch<K extends KeplarsTransactionKind> {
  /** The kind it asked for: type the second parameter as that driver's transaction. */
  readonly 'its second parameter must take the transaction it asked for': K;
}

/** The options of a transactional handler: its filters, and which transaction it is given. */
export interface KeplarsTransactionalHandlerOptions<K extends KeplarsTransactionKind> extends KeplarsEventFilter {
  /**
   * Runs the handler inside the transaction that records its success (SPEC §4b): it gets that
   * transaction as its second argument, and its writes and its mark commit together or not at all,
   * so it runs exactly once per event. `'pg'` with the store on a `pg` pool, `'typeorm'` on a
   * TypeORM `DataSource`, `'pglite'` on PGlite.
   */
  transaction: K;
}

/** What one `@OnKeplarsEvent()` put on a method; stacked decorators add one each. */
export interface KeplarsSubscription {
  readonly patterns: readonly unknown[];
  readonly filter: KeplarsEventFilter | undefined;
  readonly transaction?: KeplarsTransactionKind | undefined;
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
): <M extends (event: KeplarsEventFor<P>) => unknown>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void;
/**
 * A **transactional handler** (SPEC §4b): it runs inside the transaction that records its own
 * success, and gets that transaction as its second argument. Its writes and its mark commit
 * together or not at all, so a crash anywhere neither loses nor repeats its effect, and two
 * deliveries racing past an expired lock cannot both commit. Needs the Postgres (or PGlite) store,
 * on the pool or `DataSource` the handler writes with.
 *
 * @example
 * ```ts
 * @OnKeplarsEvent('email.bounced', { transaction: 'pg' })
 * async countBounce(event: EmailBouncedEvent, client: PoolClient) {
 *   await client.query('UPDATE contacts SET bounces = bounces + 1 WHERE email = $1', [event.recipient]);
 * }
 *
 * @OnKeplarsEvent('email.delivered', { transaction: 'typeorm' })
 * async recordDelivery(event: EmailDeliveredEvent, manager: EntityManager) {
 *   await manager.getRepository(EmailStatus).save({ emailId: event.emailId, status: 'delivered' });
 * }
 * ```
 *
 * @typeParam K which transaction it is given: `'pg'` (a `PoolClient`), `'typeorm'` (an `EntityManager`) or `'pglite'`.
 * @param options `transaction`, and the same endpoint and tenant filters as any handler.
 */
export function OnKeplarsEvent<const P extends KeplarsEventPattern, const K extends KeplarsTransactionKind>(
  patterns: P | readonly P[],
  options: KeplarsTransactionalHandlerOptions<K>,
): <M extends (event: KeplarsEventFor<P>, transaction: never) => Promise<unknown>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M> & KeplarsTransactionParameterCheck<M, K>,
) => void;
export function OnKeplarsEvent(
  patterns: KeplarsEventPattern | readonly KeplarsEventPattern[],
  options?: KeplarsEventFilter & { transaction?: KeplarsTransactionKind },
): (target: object, key: string | symbol, descriptor: PropertyDescriptor) => void {
  const { transaction, ...filter } = options ?? {};
  const added: KeplarsSubscription = {
    patterns: Array.isArray(patterns) ? patterns : [patterns],
    filter: options === undefined ? undefined : filter,
    ...(transaction === undefined ? {} : { transaction }),
  };
  return (_target, _key, descriptor) => {
    // Stacked decorators add up: @OnKeplarsEvent('email.opened') @OnKeplarsEvent('email.clicked', { endpoint: 'eu' }).
    const method = descriptor.value as object;
    const existing: readonly KeplarsSubscription[] = Reflect.getMetadata(KEPLARS_EVENT_HANDLER, method) ?? [];
    Reflect.defineMetadata(KEPLARS_EVENT_HANDLER, [...existing, added], method);
  };
}
