import { parseArgs } from 'node:util';
import type { KeplarsDeadLetter, KeplarsDeadLetters } from '../adapters/bullmq-queue/keplars-dead-letters.js';
import { DEFAULT_QUEUE_SCHEMA, KEPLARS_QUEUE_NAME, type ResolvedPostgresQueue } from '../adapters/bullmq-queue/keplars-queue.options.js';
import { redactedUrl } from '../core/support/redacted-url.js';

/** Where the command prints: stdout and stderr in the command, a buffer in tests. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes: 0 done, 1 it could not be done (no such dead letter, Redis unreachable), 2 bad usage. */
export const DEAD_LETTERS_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const REDIS_VARIABLES = ['KEPLARS_QUEUE_REDIS_URL', 'REDIS_URL'] as const;

/** Where the command finds a queue on Postgres when no --postgres is given (never DATABASE_URL: it may be another database). */
export const POSTGRES_VARIABLE = 'KEPLARS_QUEUE_POSTGRES_URL';

export const DEAD_LETTERS_USAGE = `Usage: keplars-webhook dead-letters <command> [options]

Looks after queue mode's dead letters: deliveries whose handlers failed on every attempt, and signed
bodies the module could not read. A replay runs only the handlers that never succeeded.
Every answer names the queue, prefix (or schema) and server it looked in; list and show write nothing,
and a prefix with no queue behind it is reported with the module's queues that Redis does have.

Commands:
  list                 the dead letters, newest first (--limit N, default 50; --offset N)
  show ID              one dead letter: why, each handler's last error, the body and headers
  replay ID... | --all queue them again, attempts counted from zero
  discard ID...        delete them for good

Options:
  --redis URL          the queue's Redis (default: $${REDIS_VARIABLES[0]}, else $${REDIS_VARIABLES[1]})
  --prefix PREFIX      the queue's key prefix, as in the module's queue.prefix (default: bull)
  --postgres URL       the queue's PostgreSQL instead, as in queue.postgres (default: $${POSTGRES_VARIABLE} when no Redis is named)
  --schema SCHEMA      its schema, as in the module's queue.schema (default: ${DEFAULT_QUEUE_SCHEMA})
  --json               print JSON instead of text
  -h, --help           show this help

Examples:
  keplars-webhook dead-letters list --redis redis://localhost:6379
  keplars-webhook dead-letters show evt_123
  keplars-webhook dead-letters replay --all
  keplars-webhook dead-letters list --postgres postgres://localhost:5432/app --schema keplars_webhook_queue`;

export interface DeadLettersCommand {
  readonly command: 'list' | 'show' | 'replay' | 'discard';
  readonly ids: readonly string[];
  readonly all: boolean;
  /** The queue's Redis; empty when the queue is on Postgres. */
  readonly redisUrl: string;
  readonly prefix: string;
  /** The queue's Postgres, when it is there instead of on Redis. */
  readonly postgres?: ResolvedPostgresQueue;
  readonly json: boolean;
  readonly limit: number;
  readonly offset: number;
}

export type ParsedDeadLettersArgs = { kind: 'run'; command: DeadLettersCommand } | { kind: 'help' } | { kind: 'usage-error'; message: string };

/** Reads `keplars-webhook dead-letters …`'s arguments (after `dead-letters`). Pure. */
export function parseDeadLettersArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedDeadLettersArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        redis: { type: 'string' },
        prefix: { type: 'string' },
        postgres: { type: 'string' },
        schema: { type: 'string' },
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        limit: { type: 'string' },
        offset: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, ...ids] = positionals;
  if (command === undefined) return usage('Name a command: list, show, replay or discard.');
  if (command !== 'list' && command !== 'show' && command !== 'replay' && command !== 'discard') {
    return usage(`Unknown command "${command}": use list, show, replay or discard.`);
  }
  if (command === 'show' && ids.length !== 1) return usage('show takes one dead letter id (see list).');
  if (command === 'replay' && (ids.length === 0) === !values.all) return usage('replay takes dead letter ids, or --all (not both).');
  if (command === 'discard' && ids.length === 0) return usage('discard takes one or more dead letter ids (see list).');
  if (command === 'list' && ids.length > 0) return usage('list takes no ids.');
  const server = whichServer(values, env);
  if (typeof server === 'string') return usage(server);
  const limit = wholeNumber(values.limit, 50);
  const offset = wholeNumber(values.offset, 0);
  if (limit === undefined || limit === 0) return usage('--limit must be a whole number above 0.');
  if (offset === undefined) return usage('--offset must be a whole number.');
  return {
    kind: 'run',
    command: { command, ids, all: values.all === true, ...server, json: values.json === true, limit, offset },
  };
}

/**
 * The queue's server: --redis or --postgres (not both), else the environment's Redis variables, else
 * its Postgres one. A problem to report is a string.
 */
function whichServer(
  values: { redis?: string; postgres?: string; prefix?: string; schema?: string },
  env: Readonly<Record<string, string | undefined>>,
): Pick<DeadLettersCommand, 'redisUrl' | 'prefix' | 'postgres'> | string {
  if (values.redis !== undefined && values.postgres !== undefined) return 'Name one queue: --redis or --postgres, not both.';
  const redisUrl = values.redis ?? (values.postgres === undefined ? (env[REDIS_VARIABLES[0]] ?? env[REDIS_VARIABLES[1]]) : undefined);
  const postgresUrl = values.postgres ?? (redisUrl === undefined ? env[POSTGRES_VARIABLE] : undefined);
  if (postgresUrl) {
    if (!/^postgres(ql)?:\/\//.test(postgresUrl)) return '--postgres must be a connection string such as postgres://user@localhost:5432/app.';
    if (values.prefix !== undefined) return '--prefix is for a queue on Redis; on Postgres name its --schema.';
    const schema = values.schema ?? DEFAULT_QUEUE_SCHEMA;
    if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) return '--schema must be a PostgreSQL schema name such as keplars_webhook_queue.';
    return { redisUrl: '', prefix: '', postgres: { connectionString: postgresUrl, schema } };
  }
  if (!redisUrl) {
    return `No queue to look in: pass --redis redis://host:6379 or --postgres postgres://host:5432/app, or set ${REDIS_VARIABLES.join(' or ')} (Redis) or ${POSTGRES_VARIABLE}.`;
  }
  if (!/^rediss?:\/\//.test(redisUrl)) return '--redis must be a URL such as redis://localhost:6379.';
  if (values.schema !== undefined) return '--schema is for a queue on Postgres; on Redis name its --prefix.';
  return { redisUrl, prefix: values.prefix ?? 'bull' };
}

/** Carries out a parsed command against the dead letters; returns the exit code. */
export async function runDeadLettersCommand(command: DeadLettersCommand, deadLetters: KeplarsDeadLetters, output: CommandOutput): Promise<number> {
  const where = whereLooked(command);
  // Every answer names where it looked; with --json, stdout stays JSON and that goes to stderr.
  const print = (value: unknown, text: string) => {
    if (!command.json) return output.out(text);
    output.out(JSON.stringify(value, null, 2));
    output.err(`Looked in ${where}.`);
  };
  switch (command.command) {
    case 'list': {
      const [letters, total] = await Promise.all([deadLetters.list({ limit: command.limit, offset: command.offset }), deadLetters.count()]);
      print(
        letters,
        letters.length === 0
          ? `No dead letters in ${where}${total > 0 ? ` past offset ${command.offset} (${total} in all)` : ''}.`
          : [`${total} dead letter(s) in ${where}${total > letters.length ? `, showing ${letters.length}` : ''}:`, ...letters.map(line)].join('\n'),
      );
      return DEAD_LETTERS_EXIT.ok;
    }
    case 'show': {
      const letter = await deadLetters.show(command.ids[0]!);
      if (!letter) return missing(output, command.ids, where);
      print(letter, describe(letter, where));
      return DEAD_LETTERS_EXIT.ok;
    }
    case 'replay': {
      if (command.all) {
        const replayed = await deadLetters.replayAll();
        print({ replayed }, `Replayed ${replayed} dead letter(s) in ${where}.`);
        return DEAD_LETTERS_EXIT.ok;
      }
      return each(command, output, where, (id) => deadLetters.replay(id), 'Replayed');
    }
    case 'discard':
      return each(command, output, where, (id) => deadLetters.discard(id), 'Discarded');
  }
}

/** Where a command looks: the queue, its prefix and the Redis, or its schema and the Postgres (without a password). */
export function whereLooked(command: Pick<DeadLettersCommand, 'prefix' | 'redisUrl' | 'postgres'>): string {
  if (command.postgres) return `queue "${KEPLARS_QUEUE_NAME}" (schema "${command.postgres.schema}") on ${redactedUrl(command.postgres.connectionString)}`;
  return `queue "${KEPLARS_QUEUE_NAME}" (prefix "${command.prefix}") on ${redactedUrl(command.redisUrl)}`;
}

async function each(command: DeadLettersCommand, output: CommandOutput, where: string, act: (id: string) => Promise<boolean>, done: string): Promise<number> {
  const absent: string[] = [];
  const acted: string[] = [];
  for (const id of command.ids) ((await act(id)) ? acted : absent).push(id);
  if (acted.length > 0) {
    if (command.json) {
      output.out(JSON.stringify({ [done.toLowerCase()]: acted }));
      output.err(`Looked in ${where}.`);
    } else {
      output.out(`${done} ${acted.join(', ')} in ${where}.`);
    }
  }
  return absent.length > 0 ? missing(output, absent, where) : DEAD_LETTERS_EXIT.ok;
}

function missing(output: CommandOutput, ids: readonly string[], where: string): number {
  output.err(`No dead letter ${ids.join(', ')} in ${where} (already replayed or discarded? see: keplars-webhook dead-letters list).`);
  return DEAD_LETTERS_EXIT.failed;
}

function line(letter: KeplarsDeadLetter): string {
  const when = (letter.failedAt ?? letter.receivedAt).toISOString();
  return `  ${letter.id}  ${letter.kind}  ${letter.type ?? '-'}  ${letter.attempts} attempt(s)  ${when}  ${truncate(letter.reason, 120)}`;
}

function describe(letter: Awaited<ReturnType<KeplarsDeadLetters['show']>> & object, where: string): string {
  return [
    `Dead letter ${letter.id} (${letter.kind}) in ${where}`,
    `  event:      ${letter.type ?? '-'} ${letter.eventId ?? ''}`,
    `  received:   ${letter.receivedAt.toISOString()}`,
    `  failed:     ${letter.failedAt?.toISOString() ?? '-'} after ${letter.attempts} attempt(s)`,
    `  reason:     ${letter.reason}`,
    ...letter.failures.map((failure) => `  failed:     ${failure.handler} (attempt ${failure.attempt}): ${failure.error}`),
    `  succeeded:  ${letter.succeeded.length ? letter.succeeded.join(', ') : 'none'} (not run again by a replay)`,
    `  headers:    ${JSON.stringify(letter.headers)}`,
    `  body (${letter.bodyEncoding}):`,
    letter.body,
  ].join('\n');
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function wholeNumber(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function usage(message: string): ParsedDeadLettersArgs {
  return { kind: 'usage-error', message: `${message}\nRun keplars-webhook dead-letters --help for the commands and options.` };
}
