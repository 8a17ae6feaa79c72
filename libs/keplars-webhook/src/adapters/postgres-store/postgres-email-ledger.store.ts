import { randomBytes, randomUUID } from 'node:crypto';
import type {
  ActiveSuppression,
  EmailLedgerStore,
  EmailTimelineEvent,
  LedgerEmail,
  LedgerEmailWithTimeline,
  LedgerPage,
  LedgerWrite,
  ManualChange,
  PageRequest,
  StoredSuppression,
  SuppressionChange,
} from '../../core/email-ledger/email-ledger-store.js';
import { isFinalStatus, statusOfRank } from '../../core/email-ledger/email-status.js';
import { decodeCursor, encodeCursor } from '../../core/email-ledger/ledger-cursor.js';
import type { LedgerEntry, LedgerScope } from '../../core/email-ledger/ledger-entry.js';
import { expiryOf, normalizeAddress, type ListedAddress, type SuppressionPolicy, type SuppressionReason, type SuppressionSignal } from '../../core/email-ledger/suppression-policy.js';
import type { PostgresTables } from './postgres-schema.js';
import type { SqlConnection, SqlSession } from './sql-connection.js';
import { StatementBatch, type BatchedCall } from './statement-batch.js';

type Row = Record<string, unknown>;

/** An event's answer from its turn's statement. */
type BatchResult = { readonly recorded: boolean } | { readonly failed: unknown };



/** Emails pruned per statement, so one round never holds many locks. */
const PRUNE_BATCH = 1000;
const PRUNE_ROUNDS = 100;
/** The database's clock to the millisecond: the ledger's times round-trip through page cursors and JavaScript dates. */
const NOW = "date_trunc('milliseconds', clock_timestamp())";

/**
 * The email ledger and suppression list in Postgres (SPEC §8), in the deduplication store's schema
 * and database. An event is recorded once: the timeline's key is its id, and its record is one commit
 * (a statement shared by the turn's events), so a retry, a concurrent copy or a run after a crash finds
 * it and counts nothing again. Its suppression step is one idempotent function call.
 *
 * Each email's row is changed by one upsert whose every column is a max, a min, a sum or "the value
 * of the earliest event" (ties broken by event id in byte order), so the result does not depend on
 * the order events arrive in; the upsert's row lock makes concurrent events of one email take turns.
 * An address's row is locked the same way before its causes are counted.
 */
export class PostgresEmailLedgerStore implements EmailLedgerStore {
  private readonly sql: ReturnType<typeof ledgerStatements>;
  private readonly batch: StatementBatch<LedgerEntry, BatchResult>;

  constructor(
    private readonly connection: SqlConnection,
    private readonly tables: PostgresTables,
  ) {
    this.sql = ledgerStatements(tables);
    this.batch = new StatementBatch((calls) => this.recordBatch(calls));
  }

  async hashKey(): Promise<Buffer> {
    await this.connection.query(`INSERT INTO ${this.tables.ledgerKey} (key) VALUES ($1) ON CONFLICT DO NOTHING`, [randomBytes(32)]);
    const { rows } = await this.connection.query(`SELECT key FROM ${this.tables.ledgerKey}`);
    return Buffer.from(rows[0]!.key as Uint8Array);
  }

  /**
   * Once per event: the turn's events go on their emails in one statement. An event that may change
   * the suppression list then goes through the schema's `keplars_suppression_signal` function, one
   * call, idempotent (its causes are keyed by event, a change is recorded only when the address moves
   * onto the list), so it runs whether or not the record was new: after a crash between the two, the
   * retry finds the record and still applies the signal.
   */
  async record(entry: LedgerEntry, signal: SuppressionSignal | undefined, policy: SuppressionPolicy): Promise<LedgerWrite> {
    const key = `${entry.scope.endpoint}\u0000${entry.scope.tenant}\u0000${entry.eventId}`;
    const result = await new Promise<BatchResult>((succeed, fail) => this.batch.add({ key, args: entry, succeed, fail }));
    if ('failed' in result) throw result.failed;
    return { recorded: result.recorded, suppressed: signal === undefined ? undefined : await this.signal(signal, policy) };
  }

  private async signal(signal: SuppressionSignal, policy: SuppressionPolicy): Promise<SuppressionChange | undefined> {
    const { scope, address, kind } = signal;
    const soft = policy.softBounces;
    const softTtl = policy.expiresAfterMs['soft-bounces'];
    const { rows } = await this.connection.query(
      `SELECT * FROM ${this.tables.schema}.keplars_suppression_signal($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::int, $11::float8, $12::float8)`,
      [
        scope.endpoint,
        scope.tenant,
        address.hash,
        address.address,
        kind,
        signal.eventId,
        signal.emailId ?? null,
        signal.at,
        kind === 'soft-bounce' ? null : (expiryOf(kind, signal.at, policy) ?? null),
        soft?.count ?? null,
        soft?.windowMs ?? null,
        softTtl ?? null,
      ],
      'keplars_ledger_signal',
    );
    return rows[0] === undefined ? undefined : changeOf(rows[0]);
  }

  /**
   * One turn's events in one statement: each recorded once, all committed together. If the statement
   * fails, each event is tried on its own, so one that the database refuses fails alone (and not its
   * neighbours, on every retry).
   */
  private async recordBatch(calls: readonly BatchedCall<LedgerEntry, BatchResult>[]): Promise<readonly BatchResult[]> {
    try {
      const recorded = await this.recordTogether(calls);
      return calls.map((call) => ({ recorded: recorded.has(call.key) }));
    } catch (error) {
      if (calls.length === 1) return [{ failed: error }];
      return Promise.all(calls.map(async (call): Promise<BatchResult> => (await this.recordBatch([call]))[0]!));
    }
  }

  private async recordTogether(calls: readonly BatchedCall<LedgerEntry, BatchResult>[]): Promise<ReadonlySet<string>> {
    const entries = calls.map((call) => call.args);
    const column = <T>(of: (entry: LedgerEntry) => T) => entries.map(of);
    const { rows } = await this.connection.query(
      this.sql.recordBatch,
      [
        column((entry) => entry.scope.endpoint),
        column((entry) => entry.scope.tenant),
        column((entry) => entry.eventId),
        column((entry) => entry.emailId),
        column((entry) => entry.type),
        column((entry) => entry.occurredAt),
        column((entry) => (Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : null)),
        column((entry) => entry.rank),
        column((entry) => entry.recipient ?? null),
        column((entry) => (entry.recipient === undefined ? null : normalizeAddress(entry.recipient))),
        column((entry) => entry.subject ?? null),
        column((entry) => (entry.engagement === 'open' ? 1 : 0)),
        column((entry) => (entry.engagement === 'click' ? 1 : 0)),
      ],
      'keplars_ledger_record_batch',
    );
    return new Set(rows.map((row) => `${row.endpoint as string}\u0000${row.tenant as string}\u0000${row.event_id as string}`));
  }

  async email(scope: LedgerScope, emailId: string): Promise<LedgerEmailWithTimeline | undefined> {
    const { rows } = await this.connection.query(`SELECT * FROM ${this.tables.emails} WHERE endpoint = $1 AND tenant = $2 AND email_id = $3`, [scope.endpoint, scope.tenant, emailId]);
    if (rows.length === 0) return undefined;
    const events = await this.connection.query(
      `SELECT event_id, type, occurred_at, details FROM ${this.tables.emailEvents} WHERE endpoint = $1 AND tenant = $2 AND email_id = $3 ORDER BY occurred_at, event_id COLLATE "C"`,
      [scope.endpoint, scope.tenant, emailId],
    );
    const timeline = events.rows.map((row): EmailTimelineEvent => ({ eventId: row.event_id as string, type: row.type as string, occurredAt: dateOf(row.occurred_at)!, ...((row.details as object | null) ?? {}) }));
    return { ...emailOf(rows[0]!), timeline };
  }

  async emails(endpoint: string, tenant: string | undefined, page: PageRequest): Promise<LedgerPage<LedgerEmail>> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, 'nsss');
    const { rows } = await this.connection.query(
      `SELECT * FROM ${this.tables.emails}
       WHERE endpoint = $1 AND ($2::text IS NULL OR tenant = $2)
         AND ($3::timestamptz IS NULL OR first_event_at < $3 OR (first_event_at = $3 AND (endpoint COLLATE "C", tenant COLLATE "C", email_id COLLATE "C") > ($4, $5, $6)))
       ORDER BY first_event_at DESC, endpoint COLLATE "C", tenant COLLATE "C", email_id COLLATE "C"
       LIMIT $7`,
      [endpoint, tenant ?? null, after ? new Date(-Number(after[0])) : null, after?.[1] ?? null, after?.[2] ?? null, after?.[3] ?? null, page.limit + 1],
    );
    const items = rows.slice(0, page.limit).map(emailOf);
    const last = items[items.length - 1];
    return { items, next: rows.length > page.limit && last ? encodeCursor([-last.firstEventAt.getTime(), last.endpoint, last.tenant ?? '', last.emailId]) : undefined };
  }

  check(scope: LedgerScope, hashes: readonly string[]): Promise<ReadonlyMap<string, ActiveSuppression>> {
    return this.activeIn(this.connection, scope, hashes);
  }

  async suppressions(scope: LedgerScope, page: PageRequest): Promise<LedgerPage<StoredSuppression>> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, 'ns');
    const { rows } = await this.connection.query(
      `${this.sql.active}
         AND ($3::timestamptz IS NULL OR c.at < $3 OR (c.at = $3 AND a.address_hash COLLATE "C" > $4))
       ORDER BY c.at DESC, a.address_hash COLLATE "C"
       LIMIT $5`,
      [scope.endpoint, scope.tenant, after ? new Date(-Number(after[0])) : null, after?.[1] ?? null, page.limit + 1],
    );
    const items = rows.slice(0, page.limit).map((row): StoredSuppression => ({ ...activeOf(row), address: (row.address as string | null) ?? undefined, addressHash: row.address_hash as string }));
    const last = items[items.length - 1];
    return { items, next: rows.length > page.limit && last ? encodeCursor([-last.since.getTime(), last.addressHash]) : undefined };
  }

  suppress(scope: LedgerScope, address: ListedAddress, manual: ManualChange): Promise<{ newly: boolean; change: SuppressionChange }> {
    return this.connection.transaction(async (session) => {
      await this.lockAddress(session, scope, address);
      const before = await this.activeIn(session, scope, [address.hash]);
      await session.query(
        `INSERT INTO ${this.tables.suppressionCauses} (endpoint, tenant, address_hash, cause, reason, at, expires_at, actor, note)
         SELECT $1, $2, $3, $4, 'manual', greatest(${NOW}, a.reactivated_at + interval '1 millisecond',
           (SELECT max(c.at) + interval '1 millisecond' FROM ${this.tables.suppressionCauses} c
            WHERE c.endpoint = $1 AND c.tenant = $2 AND c.address_hash = $3 AND c.reason = 'manual')), $5, $6, $7
         FROM ${this.tables.addresses} a WHERE a.endpoint = $1 AND a.tenant = $2 AND a.address_hash = $3`,
        [scope.endpoint, scope.tenant, address.hash, `manual:${randomUUID()}`, manual.expiresAt ?? null, manual.actor, manual.note ?? null],
      );
      const newly = before.size === 0 && (await this.activeIn(session, scope, [address.hash])).size > 0;
      return { newly, change: await this.addChange(session, scope, address, { change: 'suppressed', reason: 'manual', eventId: undefined, emailId: undefined, actor: manual.actor, note: manual.note }) };
    });
  }

  reactivate(scope: LedgerScope, address: ListedAddress, manual: ManualChange): Promise<SuppressionChange | undefined> {
    return this.connection.transaction(async (session) => {
      const { rows } = await session.query(`SELECT 1 FROM ${this.tables.addresses} WHERE endpoint = $1 AND tenant = $2 AND address_hash = $3 FOR UPDATE`, [scope.endpoint, scope.tenant, address.hash]);
      if (rows.length === 0 || (await this.activeIn(session, scope, [address.hash])).size === 0) return undefined;
      // Past every cause so far, even one an event dated a little ahead of this clock.
      await session.query(
        `UPDATE ${this.tables.addresses} a SET reactivated_at = greatest(${NOW}, (SELECT max(at) FROM ${this.tables.suppressionCauses} c WHERE c.endpoint = a.endpoint AND c.tenant = a.tenant AND c.address_hash = a.address_hash))
         WHERE a.endpoint = $1 AND a.tenant = $2 AND a.address_hash = $3`,
        [scope.endpoint, scope.tenant, address.hash],
      );
      return this.addChange(session, scope, address, { change: 'reactivated', reason: undefined, eventId: undefined, emailId: undefined, actor: manual.actor, note: manual.note });
    });
  }

  async changes(scope: LedgerScope, hash: string): Promise<readonly SuppressionChange[]> {
    const { rows } = await this.connection.query(`SELECT * FROM ${this.tables.suppressionChanges} WHERE endpoint = $1 AND tenant = $2 AND address_hash = $3 ORDER BY id`, [scope.endpoint, scope.tenant, hash]);
    return rows.map(changeOf);
  }

  async suppressedBy(scope: LedgerScope, eventId: string): Promise<readonly SuppressionChange[]> {
    const { rows } = await this.connection.query(
      `SELECT * FROM ${this.tables.suppressionChanges} WHERE endpoint = $1 AND tenant = $2 AND event_id = $3 AND change = 'suppressed' ORDER BY id`,
      [scope.endpoint, scope.tenant, eventId],
    );
    return rows.map(changeOf);
  }

  forget(address: ListedAddress): Promise<number> {
    const { emails, emailEvents, addresses, suppressionChanges } = this.tables;
    return this.connection.transaction(async (session) => {
      // The emails first (their rows locked from here on: a turn that records another event of one of
      // them waits, then makes it anew), and their timelines in the same statement.
      const { rows } = await session.query(
        `WITH gone AS (DELETE FROM ${emails} WHERE recipient_address = $1 RETURNING endpoint, tenant, email_id),
              timeline AS (DELETE FROM ${emailEvents} ev USING gone WHERE ev.endpoint = gone.endpoint AND ev.tenant = gone.tenant AND ev.email_id = gone.email_id)
         SELECT count(*) AS n FROM gone`,
        [address.address],
      );
      const rowCount = Number(rows[0]?.n ?? 0);
      await session.query(`UPDATE ${suppressionChanges} SET address = NULL WHERE address_hash = $1`, [address.hash]);
      await session.query(
        `INSERT INTO ${suppressionChanges} (endpoint, tenant, address_hash, change, at) SELECT endpoint, tenant, address_hash, 'forgotten', ${NOW} FROM ${addresses} WHERE address_hash = $1 AND address IS NOT NULL`,
        [address.hash],
      );
      await session.query(`UPDATE ${addresses} SET address = NULL WHERE address_hash = $1`, [address.hash]);
      return rowCount;
    });
  }

  async prune(before: Date): Promise<number> {
    let pruned = 0;
    for (let round = 0; round < PRUNE_ROUNDS; round++) {
      const { rows } = await this.connection.query(this.sql.pruneEmails, [before, PRUNE_BATCH]);
      const count = Number(rows[0]?.pruned ?? 0);
      pruned += count;
      if (count < PRUNE_BATCH) break;
    }
    await this.connection.query(`DELETE FROM ${this.tables.softBounces} WHERE at < $1`, [before]);
    return pruned;
  }

  /** Locks the address's row (making it on first sight) for the rest of the transaction; returns its last reactivation. */
  private async lockAddress(session: SqlSession, scope: LedgerScope, address: ListedAddress): Promise<Date> {
    const { rows } = await session.query(
      `INSERT INTO ${this.tables.addresses} AS a (endpoint, tenant, address_hash, address) VALUES ($1, $2, $3, $4)
       ON CONFLICT (endpoint, tenant, address_hash) DO UPDATE SET address = coalesce(a.address, excluded.address)
       RETURNING reactivated_at`,
      [scope.endpoint, scope.tenant, address.hash, address.address],
    );
    return rows[0]!.reactivated_at as Date;
  }

  private async activeIn(session: SqlSession, scope: LedgerScope, hashes: readonly string[]): Promise<Map<string, ActiveSuppression>> {
    const { rows } = await session.query(`${this.sql.active} AND a.address_hash = ANY($3::text[])`, [scope.endpoint, scope.tenant, hashes]);
    return new Map(rows.map((row) => [row.address_hash as string, activeOf(row)]));
  }

  private async addChange(session: SqlSession, scope: LedgerScope, address: ListedAddress, change: Omit<SuppressionChange, 'at' | 'address'>): Promise<SuppressionChange> {
    const { rows } = await session.query(
      `INSERT INTO ${this.tables.suppressionChanges} (endpoint, tenant, address_hash, address, change, reason, event_id, email_id, actor, note, at)
       SELECT $1, $2, $3, a.address, $4, $5, $6, $7, $8, $9, ${NOW} FROM ${this.tables.addresses} a WHERE a.endpoint = $1 AND a.tenant = $2 AND a.address_hash = $3
       RETURNING *`,
      [scope.endpoint, scope.tenant, address.hash, change.change, change.reason ?? null, change.eventId ?? null, change.emailId ?? null, change.actor ?? null, change.note ?? null],
    );
    return changeOf(rows[0]!);
  }
}

/** The store's statements, on its schema's tables. */
function ledgerStatements({ emails, emailEvents, addresses, suppressionCauses }: PostgresTables) {
  /** `column` of the earliest event that has a value for it: replaced when the incoming one is earlier (by time, then id). */
  const earliest = (value: string, at: string, event: string) =>
    `excluded.${value} IS NOT NULL AND (e.${value} IS NULL OR excluded.${at} < e.${at} OR (excluded.${at} = e.${at} AND excluded.${event} COLLATE "C" < e.${event}))`;
  const keepEarliest = (columns: readonly string[], [value, at, event]: readonly [string, string, string]) =>
    columns.map((column) => `${column} = CASE WHEN ${earliest(value, at, event)} THEN excluded.${column} ELSE e.${column} END`).join(',\n         ');
  /** An email's row moved by the incoming one (`excluded`): every column a max, a min, a sum or the earliest event's value. */
  const mergeEmail = `
         status_rank = greatest(e.status_rank, excluded.status_rank),
         ${keepEarliest(['recipient', 'recipient_address', 'recipient_at', 'recipient_event'], ['recipient', 'recipient_at', 'recipient_event'])},
         ${keepEarliest(['subject', 'subject_at', 'subject_event'], ['subject', 'subject_at', 'subject_event'])},
         opens = e.opens + excluded.opens,
         first_opened_at = least(e.first_opened_at, excluded.first_opened_at),
         last_opened_at = greatest(e.last_opened_at, excluded.last_opened_at),
         clicks = e.clicks + excluded.clicks,
         first_clicked_at = least(e.first_clicked_at, excluded.first_clicked_at),
         last_clicked_at = greatest(e.last_clicked_at, excluded.last_clicked_at),
         events = e.events + excluded.events,
         first_event_at = least(e.first_event_at, excluded.first_event_at),
         last_event_at = greatest(e.last_event_at, excluded.last_event_at)`;
  /** The value of the earliest row (by time, then event id) of the group that has one. */
  const firstOf = (column: string, having: string) => `(array_agg(${column} ORDER BY occurred_at, event_id COLLATE "C") FILTER (WHERE ${having} IS NOT NULL))[1]`;
  return {
    /**
     * Many events: the timeline first (once per event id: an event already there changes nothing),
     * then each email's row, moved once by all of its new events together (a statement may touch a row
     * once). Rows go in key order, so two statements cannot deadlock. Returns the events recorded.
     */
    recordBatch: `
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                             $7::text[], $8::smallint[], $9::text[], $10::text[], $11::text[], $12::int[], $13::int[])
          AS i(endpoint, tenant, event_id, email_id, type, occurred_at, details, rank, recipient, recipient_address, subject, open, click)
      ), timeline AS (
        INSERT INTO ${emailEvents} (endpoint, tenant, event_id, email_id, type, occurred_at, details)
        SELECT endpoint, tenant, event_id, email_id, type, occurred_at, details::jsonb FROM input
        ORDER BY endpoint, tenant, event_id
        ON CONFLICT DO NOTHING
        RETURNING endpoint, tenant, event_id
      ), fresh AS (
        SELECT i.* FROM input i JOIN timeline t ON t.endpoint = i.endpoint AND t.tenant = i.tenant AND t.event_id = i.event_id
      ), moved AS (
        INSERT INTO ${emails} AS e (endpoint, tenant, email_id, status_rank, recipient, recipient_address, recipient_at, recipient_event,
          subject, subject_at, subject_event, opens, first_opened_at, last_opened_at, clicks, first_clicked_at, last_clicked_at,
          events, first_event_at, last_event_at)
        SELECT endpoint, tenant, email_id, max(rank),
          ${firstOf('recipient', 'recipient')}, ${firstOf('recipient_address', 'recipient')}, ${firstOf('occurred_at', 'recipient')}, ${firstOf('event_id', 'recipient')},
          ${firstOf('subject', 'subject')}, ${firstOf('occurred_at', 'subject')}, ${firstOf('event_id', 'subject')},
          sum(open), min(occurred_at) FILTER (WHERE open = 1), max(occurred_at) FILTER (WHERE open = 1),
          sum(click), min(occurred_at) FILTER (WHERE click = 1), max(occurred_at) FILTER (WHERE click = 1),
          count(*), min(occurred_at), max(occurred_at)
        FROM fresh
        GROUP BY endpoint, tenant, email_id
        ORDER BY endpoint, tenant, email_id
        ON CONFLICT (endpoint, tenant, email_id) DO UPDATE SET ${mergeEmail}
      )
      SELECT endpoint, tenant, event_id FROM timeline`,
    /** Each address's active suppression: its earliest cause after the last reactivation that has not expired. Append conditions with AND. */
    active: `
      SELECT a.address_hash, a.address, c.reason, c.at, c.expires_at, c.event_id, c.actor, c.note
      FROM ${addresses} a
      JOIN LATERAL (
        SELECT * FROM ${suppressionCauses} c
        WHERE c.endpoint = a.endpoint AND c.tenant = a.tenant AND c.address_hash = a.address_hash
          AND c.at > a.reactivated_at AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp())
        ORDER BY c.at, c.cause COLLATE "C"
        LIMIT 1
      ) c ON true
      WHERE a.endpoint = $1 AND a.tenant = $2`,
    pruneEmails: `
      WITH old AS (
        DELETE FROM ${emails} WHERE ctid = ANY(ARRAY(
          -- In key order, as the turns lock them, and passing over rows a turn holds: no deadlock with recording.
          SELECT ctid FROM ${emails} WHERE first_event_at < $1 AND last_event_at < $1
          ORDER BY endpoint, tenant, email_id LIMIT $2 FOR UPDATE SKIP LOCKED))
        RETURNING endpoint, tenant, email_id
      ), timeline AS (
        DELETE FROM ${emailEvents} ev USING old WHERE ev.endpoint = old.endpoint AND ev.tenant = old.tenant AND ev.email_id = old.email_id
      )
      SELECT count(*) AS pruned FROM old`,
  };
}

function dateOf(value: unknown): Date | undefined {
  if (value === null || value === undefined) return undefined;
  return value instanceof Date ? value : new Date(value as string);
}

function emailOf(row: Row): LedgerEmail {
  const status = statusOfRank(Number(row.status_rank));
  return {
    endpoint: row.endpoint as string,
    tenant: row.tenant === '' ? undefined : (row.tenant as string),
    emailId: row.email_id as string,
    status,
    final: isFinalStatus(status),
    recipient: (row.recipient as string | null) ?? undefined,
    subject: (row.subject as string | null) ?? undefined,
    opens: { count: Number(row.opens), first: dateOf(row.first_opened_at), last: dateOf(row.last_opened_at) },
    clicks: { count: Number(row.clicks), first: dateOf(row.first_clicked_at), last: dateOf(row.last_clicked_at) },
    events: Number(row.events),
    firstEventAt: dateOf(row.first_event_at)!,
    lastEventAt: dateOf(row.last_event_at)!,
  };
}

function activeOf(row: Row): ActiveSuppression {
  return {
    reason: row.reason as SuppressionReason,
    since: dateOf(row.at)!,
    expiresAt: dateOf(row.expires_at),
    eventId: (row.event_id as string | null) ?? undefined,
    actor: (row.actor as string | null) ?? undefined,
    note: (row.note as string | null) ?? undefined,
  };
}

function changeOf(row: Row): SuppressionChange {
  return {
    at: dateOf(row.at)!,
    change: row.change as SuppressionChange['change'],
    address: (row.address as string | null) ?? undefined,
    reason: (row.reason as SuppressionReason | null) ?? undefined,
    eventId: (row.event_id as string | null) ?? undefined,
    emailId: (row.email_id as string | null) ?? undefined,
    actor: (row.actor as string | null) ?? undefined,
    note: (row.note as string | null) ?? undefined,
  };
}
