import type { KeplarsEventHandler } from '../0-event/keplars-event-handler.js';
import type { KeplarsIdempotencyStore } from '../ports/idempotency-store.js';

const STORE_FOR: Record<NonNullable<KeplarsEventHandler['transaction']>, string> = {
  pg: '{ postgres: yourPgPool } (or a connection string)',
  typeorm: '{ postgres: yourDataSource }',
  pglite: "{ pglite: './data/keplars' } (or your PGlite instance)",
};

/**
 * Why the transactional handlers of an endpoint cannot run on its store, one sentence each with the
 * fix: a transactional handler needs deduplication on, and a store whose transactions hand it what
 * it asked for (`transaction: 'pg'` a `pg` client, `'typeorm'` an `EntityManager`, `'pglite'` a
 * PGlite transaction). Empty when they all can.
 */
export function transactionalHandlerProblems(
  handlers: readonly KeplarsEventHandler[],
  store: KeplarsIdempotencyStore | undefined,
  endpoint: string,
): string[] {
  const problems: string[] = [];
  for (const handler of handlers) {
    const wanted = handler.transaction;
    if (wanted === undefined) continue;
    const on = endpoint === 'default' ? '' : ` (endpoint "${endpoint}")`;
    if (store === undefined) {
      problems.push(`${handler.name} runs in a transaction ({ transaction: '${wanted}' }), but deduplication is off${on}: its mark is what makes it run once. Remove "deduplication: false" and set deduplication.store to ${STORE_FOR[wanted]}.`);
    } else if (store.inTransaction === undefined) {
      problems.push(`${handler.name} runs in a transaction ({ transaction: '${wanted}' }), but the deduplication store${on} has no transactions. Set deduplication.store to ${STORE_FOR[wanted]}, so that its writes and its mark commit together.`);
    } else if (store.transactionKind !== wanted) {
      problems.push(
        `${handler.name} asks for a '${wanted}' transaction, but the deduplication store${on} hands out '${store.transactionKind}' ones. ` +
          `Type the handler for what the store gives ({ transaction: '${store.transactionKind}' }), or set deduplication.store to ${STORE_FOR[wanted]}.`,
      );
    }
  }
  return problems;
}
