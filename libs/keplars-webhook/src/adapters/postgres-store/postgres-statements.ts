import type { PostgresTables } from './postgres-schema.js';

/**
 * The store's statements. Each is one statement, so each is atomic on its own; the claims and the
 * settles take arrays, so that one statement serves every delivery of an event-loop turn.
 * `clock_timestamp()` is the database's clock: instances with drifting clocks still agree.
 */
export interface PostgresStatements {
  /** $1 keys, $2 tokens, $3 lock ms → per key: claimed, handled, done. */
  readonly claim: string;
  /** $1 keys, $2 tokens, $3 complete, $4 window ms, $5 handlers as JSON arrays. */
  readonly settle: string;
  /** $1 key, $2 token, $3 lock ms → one row if renewed. */
  readonly renew: string;
  /** $1 key, $2 handler, $3 window ms. */
  readonly markHandled: string;
  /** $1 key → `handled`. */
  readonly isHandled: string;
  /** $1 key, $2 handler, $3 window ms → one row if this transaction now holds the handler's mark. */
  readonly takeEffect: string;
  /** $1 how many rows at most → `pruned`. */
  readonly pruneEvents: string;
  readonly pruneEffects: string;
}

const ms = (parameter: string) => `${parameter} * interval '1 millisecond'`;

export function postgresStatements({ events, effects }: PostgresTables): PostgresStatements {
  return {
    // A delivery takes an event that is not done (or whose window ended) and not held by a live lock.
    // `ON CONFLICT … WHERE` judges the row as it is once any concurrent writer of it has committed,
    // so two deliveries never both take it; `before` (the statement's snapshot) tells a refused
    // delivery whether the event is done or busy.
    claim: `
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::float8[]) WITH ORDINALITY AS input(event_key, token, lock_ms, position)
      ), taken AS (
        INSERT INTO ${events} AS e (event_key, lock_token, locked_until, expires_at)
        SELECT event_key, token, clock_timestamp() + ${ms('lock_ms')}, clock_timestamp() + ${ms('lock_ms')} FROM input ORDER BY event_key
        ON CONFLICT (event_key) DO UPDATE SET
          lock_token = excluded.lock_token,
          locked_until = excluded.locked_until,
          handled = CASE WHEN e.expires_at <= clock_timestamp() THEN '{}'::text[] ELSE e.handled END,
          done = false,
          expires_at = CASE WHEN e.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE greatest(e.expires_at, excluded.locked_until) END
        WHERE (NOT e.done OR e.expires_at <= clock_timestamp()) AND e.locked_until <= clock_timestamp()
        RETURNING e.event_key, e.handled
      )
      SELECT taken.event_key IS NOT NULL AS claimed, taken.handled,
             coalesce(before.done AND before.expires_at > clock_timestamp(), false) AS done
      FROM input
      LEFT JOIN taken ON taken.event_key = input.event_key
      LEFT JOIN ${events} AS before ON before.event_key = input.event_key
      ORDER BY input.position`,
    // Records what succeeded (all of it once the event is done) for the window, and lets the lock go
    // if this delivery's token still holds it. An upsert: a row pruned meanwhile is written again.
    settle: `
      INSERT INTO ${events} AS e (event_key, lock_token, locked_until, handled, done, expires_at)
      SELECT event_key, token, '-infinity',
             CASE WHEN complete THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(handlers::jsonb)) END,
             complete, clock_timestamp() + ${ms('window_ms')}
      FROM unnest($1::text[], $2::text[], $3::bool[], $4::float8[], $5::text[]) AS input(event_key, token, complete, window_ms, handlers)
      ORDER BY event_key
      ON CONFLICT (event_key) DO UPDATE SET
        done = e.done OR excluded.done,
        handled = CASE WHEN e.done OR excluded.done THEN '{}'::text[] ELSE ARRAY(SELECT DISTINCT unnest(e.handled || excluded.handled)) END,
        expires_at = excluded.expires_at,
        lock_token = CASE WHEN e.lock_token = excluded.lock_token THEN NULL ELSE e.lock_token END,
        locked_until = CASE WHEN e.lock_token = excluded.lock_token THEN '-infinity'::timestamptz ELSE e.locked_until END`,
    renew: `
      UPDATE ${events} SET locked_until = clock_timestamp() + ${ms('$3::float8')}
      WHERE event_key = $1 AND lock_token = $2 AND locked_until > clock_timestamp()
      RETURNING 1 AS renewed`,
    markHandled: `
      UPDATE ${events}
      SET handled = CASE WHEN $2 = ANY(handled) THEN handled ELSE array_append(handled, $2::text) END,
          expires_at = greatest(expires_at, clock_timestamp() + ${ms('$3::float8')})
      WHERE event_key = $1 AND NOT done`,
    isHandled: `SELECT EXISTS (SELECT 1 FROM ${events} WHERE event_key = $1 AND done AND expires_at > clock_timestamp()) AS handled`,
    // The mark of a transactional handler, written first in its transaction: a second transaction for
    // the same handler and event waits on this row until the first ends, then finds it (no row back).
    takeEffect: `
      INSERT INTO ${effects} AS f (event_key, handler, expires_at)
      VALUES ($1, $2, clock_timestamp() + ${ms('$3::float8')})
      ON CONFLICT (event_key, handler) DO UPDATE SET expires_at = excluded.expires_at, committed_at = clock_timestamp()
      WHERE f.expires_at <= clock_timestamp()
      RETURNING 1 AS taken`,
    pruneEvents: prune(events, 'AND locked_until < clock_timestamp()'),
    pruneEffects: prune(effects, ''),
  };
}

function prune(table: string, andAlso: string): string {
  return `
    WITH gone AS (
      DELETE FROM ${table} WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM ${table} WHERE expires_at < clock_timestamp() ${andAlso} LIMIT $1
      )) RETURNING 1
    )
    SELECT count(*)::int AS pruned FROM gone`;
}
