import type { SqlConnection, SqlSession } from './sql-connection.js';
import type { PostgresTables } from './postgres-schema.js';

/** One change to the store's tables; applied once, in order, and never edited once released. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (tables: PostgresTables) => readonly string[];
}

/**
 * Every version of the store's tables. Times are the database's (`clock_timestamp()`), so the
 * instances of an app agree on them whatever their own clocks say.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events and effects',
    statements: ({ events, effects }) => [
      `CREATE TABLE ${events} (
        event_key text PRIMARY KEY,
        lock_token text,
        locked_until timestamptz NOT NULL,
        handled text[] NOT NULL DEFAULT '{}',
        done boolean NOT NULL DEFAULT false,
        expires_at timestamptz NOT NULL
      )`,
      `CREATE INDEX ON ${events} (expires_at)`,
      `CREATE TABLE ${effects} (
        event_key text NOT NULL,
        handler text NOT NULL,
        committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (event_key, handler)
      )`,
      `CREATE INDEX ON ${effects} (expires_at)`,
    ],
  },
  {
    version: 2,
    name: 'email ledger and suppression list',
    // Every table is keyed by endpoint and tenant ('' for none) first: two accounts' emails are two.
    statements: ({ schema, emails, emailEvents, addresses, suppressionCauses, softBounces, suppressionChanges, ledgerKey }) => [
      `CREATE TABLE ${emails} (
        endpoint text NOT NULL,
        tenant text NOT NULL,
        email_id text NOT NULL,
        status_rank smallint NOT NULL,
        recipient text,
        recipient_address text,
        recipient_at timestamptz,
        recipient_event text,
        subject text,
        subject_at timestamptz,
        subject_event text,
        opens integer NOT NULL DEFAULT 0,
        first_opened_at timestamptz,
        last_opened_at timestamptz,
        clicks integer NOT NULL DEFAULT 0,
        first_clicked_at timestamptz,
        last_clicked_at timestamptz,
        events integer NOT NULL,
        first_event_at timestamptz NOT NULL,
        last_event_at timestamptz NOT NULL,
        PRIMARY KEY (endpoint, tenant, email_id)
      ) WITH (fillfactor = 80)`,
      // By the first event (when the email started), which an email's later events leave alone: with
      // room left on each page (fillfactor), most updates of an email's row are HOT, writing no index.
      // Lists and pruning go by it (pruning adds last_event_at as a filter: last >= first).
      `CREATE INDEX ON ${emails} (first_event_at)`,
      `CREATE INDEX ON ${emails} (recipient_address)`,
      `CREATE TABLE ${emailEvents} (
        endpoint text NOT NULL,
        tenant text NOT NULL,
        event_id text NOT NULL,
        email_id text NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        details jsonb,
        PRIMARY KEY (endpoint, tenant, event_id)
      )`,
      `CREATE INDEX ON ${emailEvents} (endpoint, tenant, email_id)`,
      `CREATE TABLE ${addresses} (
        endpoint text NOT NULL,
        tenant text NOT NULL,
        address_hash text NOT NULL,
        address text,
        reactivated_at timestamptz NOT NULL DEFAULT '-infinity',
        PRIMARY KEY (endpoint, tenant, address_hash)
      )`,
      `CREATE INDEX ON ${addresses} (address_hash)`,
      `CREATE TABLE ${suppressionCauses} (
        endpoint text NOT NULL,
        tenant text NOT NULL,
        address_hash text NOT NULL,
        cause text NOT NULL,
        reason text NOT NULL,
        at timestamptz NOT NULL,
        expires_at timestamptz,
        event_id text,
        actor text,
        note text,
        PRIMARY KEY (endpoint, tenant, address_hash, cause)
      )`,
      `CREATE TABLE ${softBounces} (
        endpoint text NOT NULL,
        tenant text NOT NULL,
        address_hash text NOT NULL,
        event_id text NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (endpoint, tenant, address_hash, event_id)
      )`,
      `CREATE INDEX ON ${softBounces} (at)`,
      `CREATE TABLE ${suppressionChanges} (
        id bigserial PRIMARY KEY,
        endpoint text NOT NULL,
        tenant text NOT NULL,
        address_hash text NOT NULL,
        address text,
        change text NOT NULL,
        reason text,
        event_id text,
        email_id text,
        actor text,
        note text,
        at timestamptz NOT NULL
      )`,
      `CREATE INDEX ON ${suppressionChanges} (endpoint, tenant, address_hash)`,
      `CREATE INDEX ON ${suppressionChanges} (endpoint, tenant, event_id)`,
      `CREATE TABLE ${ledgerKey} (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), key bytea NOT NULL)`,
      suppressionSignal({ schema, addresses, suppressionCauses, softBounces, suppressionChanges }),
    ],
  },
];

/**
 * What an event does to its recipient's place on the suppression list, as one call: a hard bounce or a
 * complaint adds a cause (keyed by the event), a soft bounce is counted and every window that now holds
 * the threshold becomes a cause. Returns the change when the address moved onto the list. Idempotent,
 * so a retry after a crash applies what the first run did not, and records no second change.
 *
 * The address's row is locked first, and each statement of a plpgsql function sees what committed
 * before it began, so concurrent signals of one address take turns and each sees the one before.
 * Times are the events' own; `expires_at` and the window are the policy's.
 */
function suppressionSignal({ schema, addresses, suppressionCauses, softBounces, suppressionChanges }: Pick<PostgresTables, 'schema' | 'addresses' | 'suppressionCauses' | 'softBounces' | 'suppressionChanges'>): string {
  const active = (alias: string) =>
    `SELECT ${alias}.reason FROM ${suppressionCauses} ${alias}
     WHERE ${alias}.endpoint = p_endpoint AND ${alias}.tenant = p_tenant AND ${alias}.address_hash = p_hash
       AND ${alias}.at > v_reactivated AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > clock_timestamp())
     ORDER BY ${alias}.at, ${alias}.cause COLLATE "C" LIMIT 1`;
  return `
    CREATE FUNCTION ${schema}.keplars_suppression_signal(
      p_endpoint text, p_tenant text, p_hash text, p_address text, p_kind text, p_event_id text, p_email_id text,
      p_at timestamptz, p_expires_at timestamptz, p_soft_count int, p_soft_window_ms float8, p_soft_ttl_ms float8
    ) RETURNS SETOF ${suppressionChanges} LANGUAGE plpgsql VOLATILE AS $signal$
    DECLARE
      v_reactivated timestamptz;
      v_before text;
      v_after text;
      v_window interval := p_soft_window_ms * interval '1 millisecond';
    BEGIN
      INSERT INTO ${addresses} AS a (endpoint, tenant, address_hash, address) VALUES (p_endpoint, p_tenant, p_hash, p_address)
      ON CONFLICT (endpoint, tenant, address_hash) DO UPDATE SET address = coalesce(a.address, excluded.address)
      RETURNING a.reactivated_at INTO v_reactivated;
      ${active('c')} INTO v_before;
      IF p_kind = 'soft-bounce' THEN
        INSERT INTO ${softBounces} (endpoint, tenant, address_hash, event_id, at) VALUES (p_endpoint, p_tenant, p_hash, p_event_id, p_at)
        ON CONFLICT DO NOTHING;
        -- Only windows that end at or after this bounce can have grown: each one that now holds the
        -- threshold (counting bounces since the last reactivation) becomes a cause.
        INSERT INTO ${suppressionCauses} (endpoint, tenant, address_hash, cause, reason, at, expires_at, event_id)
        SELECT s.endpoint, s.tenant, s.address_hash, 'soft:' || s.event_id, 'soft-bounces', s.at, s.at + p_soft_ttl_ms * interval '1 millisecond', s.event_id
        FROM ${softBounces} s
        WHERE s.endpoint = p_endpoint AND s.tenant = p_tenant AND s.address_hash = p_hash
          AND s.at >= p_at AND s.at < p_at + v_window AND s.at > v_reactivated
          AND (SELECT count(*) FROM ${softBounces} b
               WHERE b.endpoint = s.endpoint AND b.tenant = s.tenant AND b.address_hash = s.address_hash
                 AND b.at > s.at - v_window AND b.at <= s.at AND b.at > v_reactivated) >= p_soft_count
        ON CONFLICT DO NOTHING;
      ELSE
        INSERT INTO ${suppressionCauses} (endpoint, tenant, address_hash, cause, reason, at, expires_at, event_id)
        VALUES (p_endpoint, p_tenant, p_hash, p_event_id, p_kind, p_at, p_expires_at, p_event_id)
        ON CONFLICT DO NOTHING;
      END IF;
      IF v_before IS NOT NULL THEN
        RETURN;
      END IF;
      ${active('c')} INTO v_after;
      IF v_after IS NULL THEN
        RETURN;
      END IF;
      RETURN QUERY
        INSERT INTO ${suppressionChanges} (endpoint, tenant, address_hash, address, change, reason, event_id, email_id, at)
        SELECT p_endpoint, p_tenant, p_hash, a.address, 'suppressed', v_after, p_event_id, p_email_id, date_trunc('milliseconds', clock_timestamp())
        FROM ${addresses} a WHERE a.endpoint = p_endpoint AND a.tenant = p_tenant AND a.address_hash = p_hash
        RETURNING *;
    END
    $signal$`;
}

/** The newest version this package knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Where the database's tables stand against this package: what `migrate` would do, or why it cannot. */
export type SchemaState =
  | { readonly kind: 'current'; readonly version: number }
  | { readonly kind: 'behind'; readonly version: number }
  | { readonly kind: 'ahead'; readonly version: number };

/** Thrown when the tables are not usable as they are; the message says what to do. */
export class PostgresSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresSchemaError';
  }
}

/** Every instance of an app migrates under this lock; the others wait, then find nothing left to do. */
const lockKey = (tables: PostgresTables) => `keplars-webhook:migrate:${tables.schema}`;

/**
 * Brings the tables to {@link LATEST_VERSION} in one transaction, under an advisory lock so that
 * instances starting together do it once. Returns the versions it applied. Refuses a database whose
 * tables are newer than this package (an older instance must not write to them).
 */
export async function migrate(connection: SqlConnection, tables: PostgresTables): Promise<readonly number[]> {
  return connection.transaction(async (session) => {
    await session.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(tables)]);
    // IF NOT EXISTS still fails when another session (BullMQ's migration, another app) creates the
    // schema at the same moment: then it exists, which is all that is asked.
    await session.query('SAVEPOINT keplars_schema');
    try {
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${tables.schema}`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw error;
      await session.query('ROLLBACK TO SAVEPOINT keplars_schema');
    }
    await session.query(
      `CREATE TABLE IF NOT EXISTS ${tables.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    const current = await appliedVersion(session, tables);
    if (current > LATEST_VERSION) throw new PostgresSchemaError(aheadMessage(tables, current));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements(tables)) await session.query(statement);
      await session.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** Where the tables stand, without changing anything (for an app whose migrations are run by hand). */
export async function schemaState(session: SqlSession, tables: PostgresTables): Promise<SchemaState> {
  const { rows } = await session.query('SELECT to_regclass($1) IS NOT NULL AS present', [tables.migrations]);
  const version = rows[0]?.present === true ? await appliedVersion(session, tables) : 0;
  if (version === LATEST_VERSION) return { kind: 'current', version };
  return version > LATEST_VERSION ? { kind: 'ahead', version } : { kind: 'behind', version };
}

/** Checks the tables are at this package's version, with the fix in the error when they are not. */
export async function checkSchema(session: SqlSession, tables: PostgresTables, where: string): Promise<void> {
  const state = await schemaState(session, tables);
  if (state.kind === 'current') return;
  if (state.kind === 'ahead') throw new PostgresSchemaError(aheadMessage(tables, state.version));
  const found = state.version === 0 ? `no keplars-webhook tables in schema "${tables.schema}"` : `the keplars-webhook tables at version ${state.version}`;
  throw new PostgresSchemaError(
    `${where} has ${found}, and this package needs version ${LATEST_VERSION}, while migrations at startup are off (migrations: 'manual'). ` +
      `Run them: npx keplars-webhook migrate --database-url <url> --schema ${tables.schema}; or set deduplication.store.migrations to 'startup'.`,
  );
}

async function appliedVersion(session: SqlSession, tables: PostgresTables): Promise<number> {
  const { rows } = await session.query(`SELECT coalesce(max(version), 0) AS version FROM ${tables.migrations}`);
  return Number(rows[0]?.version ?? 0);
}

function aheadMessage(tables: PostgresTables, version: number): string {
  return (
    `the keplars-webhook tables in schema "${tables.schema}" are at version ${version}, newer than this package knows (${LATEST_VERSION}): ` +
    'an instance with a newer nestjs-keplars-webhook migrated them. Upgrade this app to that version, or give it a schema of its own (deduplication.store.schema).'
  );
}
