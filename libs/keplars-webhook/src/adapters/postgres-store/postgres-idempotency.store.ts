import { randomBytes } from 'node:crypto';
import { BUSY, DONE, type EventClaim, type KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import type { KeplarsTransactionKind } from '../../core/0-event/keplars-event-handler.js';
import { OperationDeadlines } from '../../core/support/operation-deadlines.js';
import type { KeplarsLogger } from '../../core/ports/log.js';
import type { SqlConnection } from './sql-connection.js';
import { DEFAULT_POSTGRES_SCHEMA, postgresTables, type PostgresTables } from './postgres-schema.js';
import { postgresStatements, type PostgresStatements } from './postgres-statements.js';
import { StatementBatch, type BatchedCall } from './statement-batch.js';

/** Settings of a {@link PostgresIdempotencyStore}. */
export interface PostgresIdempotencyStoreOptions {
  /** The schema of the store's tables. @default 'keplars_webhook' */
  readonly schema?: string;
  /** How long one store statement may take before the delivery is answered 503. @default 2000 */
  readonly operationTimeoutMs?: number;
  /** How often marks past their window are deleted; 0 never (for a test). @default 300000 (5 min) */
  readonly pruneIntervalMs?: number;
  /** Told when the database goes away and comes back, and what pruning removed. */
  readonly logger?: Pick<KeplarsLogger, 'log' | 'error'>;
}

interface ClaimArgs {
  readonly token: string;
  readonly lockMs: number;
}
interface ClaimRow {
  readonly claimed: boolean;
  readonly handled: readonly string[] | null;
  readonly done: boolean;
}
interface SettleArgs {
  readonly token: string;
  readonly complete: boolean;
  readonly windowMs: number;
  readonly handlers: readonly string[];
}

const NOTHING_HANDLED: ReadonlySet<string> = new Set();
const PRUNE_BATCH = 10_000;
const PRUNE_ROUNDS = 20;

/** Thrown inside a transaction to roll it back when the handler's mark was already there. */
class AlreadyHandled extends Error {}

/**
 * Deduplication marks in Postgres, shared by every instance of the app (SPEC §4, §4b): one row per
 * event with its delivery's lock, the handlers that succeeded, and whether all did. Each operation is
 * one statement; the claims and the settles of one event-loop turn go as one statement. A lock
 * expires on the database's clock if the process holding it dies. Marks past their window are
 * pruned by the store itself.
 *
 * On top of the §4 marks it runs **transactional handlers** ({@link inTransaction}): the handler's
 * mark is a row of its own, unique per event and handler, written in the handler's transaction.
 */
export class PostgresIdempotencyStore implements KeplarsIdempotencyStore {
  readonly transactionKind: KeplarsTransactionKind;
  readonly tables: PostgresTables;
  private readonly statements: PostgresStatements;
  private readonly deadlines: OperationDeadlines;
  private readonly operationTimeoutMs: number;
  private readonly tokenPrefix = `${randomBytes(9).toString('base64url')}:`;
  private nextToken = 0;
  private readonly claims: StatementBatch<ClaimArgs, ClaimRow>;
  private readonly settles: StatementBatch<SettleArgs, void>;
  private readonly pruner: NodeJS.Timeout | undefined;
  private down = false;

  /**
   * @param connection where the tables are (see `connectPostgresStore` for a pool, a `DataSource`,
   *   PGlite, or a connection string). The tables must exist: `migrate()` makes them.
   */
  constructor(
    readonly connection: SqlConnection,
    private readonly options: PostgresIdempotencyStoreOptions = {},
  ) {
    this.transactionKind = connection.kind;
    this.tables = postgresTables(options.schema ?? DEFAULT_POSTGRES_SCHEMA);
    this.statements = postgresStatements(this.tables);
    this.operationTimeoutMs = options.operationTimeoutMs ?? 2000;
    this.deadlines = new OperationDeadlines(this.operationTimeoutMs, () => new Error(`no answer within ${this.operationTimeoutMs} ms`));
    this.claims = new StatementBatch((calls) => this.claimAll(calls), (first) => (first.claimed ? { claimed: false, handled: null, done: false } : first));
    this.settles = new StatementBatch((calls) => this.settleAll(calls));
    const pruneIntervalMs = options.pruneIntervalMs ?? 300_000;
    if (pruneIntervalMs > 0) {
      this.pruner = setInterval(() => void this.prune().catch(() => undefined), pruneIntervalMs);
      this.pruner.unref();
    }
  }

  async claim(eventId: string, lockMs: number): Promise<EventClaim> {
    const token = this.tokenPrefix + (this.nextToken++).toString(36);
    const row = await this.watched<ClaimRow>((succeed, fail) => this.claims.add({ key: eventId, args: { token, lockMs: Math.max(1, Math.round(lockMs)) }, succeed, fail }));
    if (!row.claimed) return row.done ? DONE : BUSY;
    const handled = row.handled ?? [];
    return { state: 'claimed', token, handled: handled.length === 0 ? NOTHING_HANDLED : new Set(handled) };
  }

  async settle(eventId: string, token: string | number, succeeded: readonly string[], complete: boolean, windowMs: number): Promise<void> {
    const args: SettleArgs = { token: String(token), complete, windowMs: Math.max(1, Math.round(windowMs)), handlers: complete ? [] : succeeded };
    await this.watched<void>((succeed, fail) => this.settles.add({ key: eventId, args, succeed, fail }));
  }

  async renew(eventId: string, token: string | number, lockMs: number): Promise<boolean> {
    const { rowCount } = await this.run(this.statements.renew, [eventId, String(token), Math.max(1, Math.round(lockMs))], 'keplars_renew');
    return rowCount === 1;
  }

  async markHandled(eventId: string, handler: string, windowMs: number): Promise<void> {
    await this.run(this.statements.markHandled, [eventId, handler, Math.max(1, Math.round(windowMs))], 'keplars_mark');
  }

  async isHandled(eventId: string): Promise<boolean> {
    const { rows } = await this.run(this.statements.isHandled, [eventId], 'keplars_is_handled');
    return rows[0]?.handled === true;
  }

  /**
   * Runs a transactional handler: in one transaction, takes its mark (waiting, at most
   * `operationTimeoutMs`, on a transaction of another delivery that holds it), then runs `work` with
   * the driver's transaction object, then commits both. `'already-handled'` when the mark was there.
   */
  async inTransaction(eventId: string, handler: string, windowMs: number, work: (transaction: unknown) => Promise<unknown>): Promise<'committed' | 'already-handled'> {
    try {
      await this.connection.transaction(async (session, transaction) => {
        await session.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.operationTimeoutMs))}`);
        const { rows } = await session.query(this.statements.takeEffect, [eventId, handler, Math.max(1, Math.round(windowMs))], 'keplars_take_effect');
        if (rows.length === 0) throw new AlreadyHandled();
        await work(transaction);
      });
      return 'committed';
    } catch (error) {
      if (error instanceof AlreadyHandled) return 'already-handled';
      throw error;
    }
  }

  /** Deletes marks past their window (and no longer locked), a bounded number per round. Returns how many. */
  async prune(): Promise<number> {
    let pruned = 0;
    for (const statement of [this.statements.pruneEvents, this.statements.pruneEffects]) {
      for (let round = 0; round < PRUNE_ROUNDS; round++) {
        const { rows } = await this.connection.query(statement, [PRUNE_BATCH]);
        const count = Number(rows[0]?.pruned ?? 0);
        pruned += count;
        if (count < PRUNE_BATCH) break;
      }
    }
    return pruned;
  }

  async ping(): Promise<void> {
    await this.run('SELECT 1', []);
  }

  async close(): Promise<void> {
    clearInterval(this.pruner);
    await this.connection.close();
  }

  private async claimAll(calls: readonly BatchedCall<ClaimArgs, ClaimRow>[]): Promise<readonly ClaimRow[]> {
    const { rows } = await this.connection.query(
      this.statements.claim,
      [calls.map((call) => call.key), calls.map((call) => call.args.token), calls.map((call) => call.args.lockMs)],
      'keplars_claim',
    );
    return rows as unknown as ClaimRow[];
  }

  private async settleAll(calls: readonly BatchedCall<SettleArgs, void>[]): Promise<readonly void[]> {
    await this.connection.query(
      this.statements.settle,
      [
        calls.map((call) => call.key),
        calls.map((call) => call.args.token),
        calls.map((call) => call.args.complete),
        calls.map((call) => call.args.windowMs),
        calls.map((call) => JSON.stringify(call.args.handlers)),
      ],
      'keplars_settle',
    );
    return calls.map(() => undefined);
  }

  private run(text: string, params: readonly unknown[], name?: string) {
    return this.watched<Awaited<ReturnType<SqlConnection['query']>>>((succeed, fail) => this.connection.query(text, params, name).then(succeed, fail));
  }

  /** One store operation, failed after `operationTimeoutMs` without an answer, its errors worded for the log. */
  private watched<T>(call: (succeed: (value: T) => void, fail: (error: unknown) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const watched = this.deadlines.start((error) => reject(this.unreachable(error)));
      const fail = (error: unknown): void => {
        if (this.deadlines.finish(watched)) reject(this.unreachable(error));
      };
      try {
        call((value) => {
          if (!this.deadlines.finish(watched)) return;
          this.reachable();
          resolve(value);
        }, fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  private reachable(): void {
    if (!this.down) return;
    this.down = false;
    this.options.logger?.log(`${this.connection.description} is reachable again: webhooks are handled.`);
  }

  private unreachable(error: unknown): Error {
    const reason = String((error as Error)?.message ?? error);
    if (!this.down) {
      this.down = true;
      this.options.logger?.error(`${this.connection.description} is unreachable (${reason}): webhooks are answered 503 until it is back; Keplars retries them.`);
    }
    return new Error(`${this.connection.description} is unreachable: ${reason}`, { cause: error });
  }
}
