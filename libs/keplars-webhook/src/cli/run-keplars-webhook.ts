import { KeplarsDeadLetters } from '../adapters/bullmq-queue/keplars-dead-letters.js';
import { KEPLARS_QUEUE_NAME } from '../adapters/bullmq-queue/keplars-queue.options.js';
import { findKeplarsQueues, keplarsQueueExists, type FoundKeplarsQueue } from '../adapters/bullmq-queue/find-keplars-queues.js';
import { closeQueueConnection, loadBullMQ, openQueueConnection } from '../adapters/bullmq-queue/queue-connections.js';
import { runOnPostgres } from './run-dead-letters-on-postgres.js';
import { DEAD_LETTERS_EXIT, DEAD_LETTERS_USAGE, parseDeadLettersArgs, runDeadLettersCommand, type CommandOutput } from './run-dead-letters.js';
import { redactedUrl } from '../core/support/redacted-url.js';
import { runMigrate } from './run-migrate.js';

export const KEPLARS_WEBHOOK_USAGE = `Usage: keplars-webhook <command>

Commands:
  dead-letters list|show|replay|discard   queue mode's dead letters (keplars-webhook dead-letters --help)
  migrate                                 create or upgrade the Postgres store's tables (keplars-webhook migrate --help)

To send a test event to your app, see keplars-webhook-send --help.`;

/**
 * The whole `keplars-webhook` command, minus the process: today one command, `dead-letters`, which
 * opens the queue's Redis (or Postgres), acts, and closes it. Returns the exit code.
 */
export async function runKeplarsWebhookCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, output: CommandOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    output.out(KEPLARS_WEBHOOK_USAGE);
    return DEAD_LETTERS_EXIT.ok;
  }
  if (command === undefined) {
    output.err(KEPLARS_WEBHOOK_USAGE);
    return DEAD_LETTERS_EXIT.usage;
  }
  if (command === 'migrate') return runMigrate(rest, env, output);
  if (command !== 'dead-letters') {
    output.err(`Unknown command "${command}".\n${KEPLARS_WEBHOOK_USAGE}`);
    return DEAD_LETTERS_EXIT.usage;
  }
  const parsed = parseDeadLettersArgs(rest, env);
  if (parsed.kind === 'help') {
    output.out(DEAD_LETTERS_USAGE);
    return DEAD_LETTERS_EXIT.ok;
  }
  if (parsed.kind === 'usage-error') {
    output.err(parsed.message);
    return DEAD_LETTERS_EXIT.usage;
  }

  if (parsed.command.postgres) return runOnPostgres(parsed.command, parsed.command.postgres, output);
  const { redisUrl, prefix } = parsed.command;
  let bullmq;
  try {
    bullmq = await loadBullMQ();
  } catch (error) {
    output.err((error as Error).message.replace(/^KeplarsWebhookModule cannot start:\n\s*- /, ''));
    return DEAD_LETTERS_EXIT.failed;
  }
  const quiet = { log() {}, error() {} }; // a failed command says it once, below
  const connection = await openQueueConnection(redisUrl, 'receiver', quiet);
  const unreachable = (error: unknown) => {
    output.err(`Could not reach the queue at ${redactedUrl(redisUrl)} (prefix "${prefix}"): ${(error as Error).message}`);
    return DEAD_LETTERS_EXIT.failed;
  };
  try {
    await connection.ping(); // fails at once when not connected: BullMQ itself would wait for Redis
  } catch (error) {
    connection.disconnect();
    return unreachable(error);
  }
  try {
    // Before BullMQ sees the prefix: looking somewhere must not create anything there.
    if (!(await keplarsQueueExists(connection, prefix))) {
      output.err(noQueueThere(redisUrl, prefix, await findKeplarsQueues(connection)));
      await closeQueueConnection(connection);
      return DEAD_LETTERS_EXIT.failed;
    }
  } catch (error) {
    connection.disconnect();
    return unreachable(error);
  }
  // skipMetasUpdate: the queue's meta is the app's (its BullMQ version, its settings); a command run
  // from elsewhere, or that only reads, writes none of it.
  const queue = new bullmq.Queue(KEPLARS_QUEUE_NAME, { connection, prefix, skipMetasUpdate: true });
  queue.on('error', () => undefined);
  try {
    return await runDeadLettersCommand(parsed.command, new KeplarsDeadLetters(queue), output);
  } catch (error) {
    return unreachable(error);
  } finally {
    await queue.close().catch(() => undefined);
    await closeQueueConnection(connection);
  }
}

/** Why nothing was found: no queue under this prefix, and the module's queues there are, if any. */
function noQueueThere(redisUrl: string, prefix: string, queues: readonly FoundKeplarsQueue[]): string {
  const url = redactedUrl(redisUrl);
  const first = `No queue "${KEPLARS_QUEUE_NAME}" with prefix "${prefix}" on ${url}: the module never wrote one there.`;
  if (queues.length === 0) {
    const database = databaseOf(redisUrl);
    return `${first}\nNo queue of the module on that Redis${database === undefined ? '' : ` (database ${database})`}: is it the Redis of queue.redis?`;
  }
  const found = queues.map((queue) => `prefix "${queue.prefix}" (${queue.deadLetters} dead letter(s))`).join(', ');
  return `${first}\nThe queues of the module on that Redis: ${found}. Pass it as --prefix, e.g. --prefix ${queues[0]!.prefix}.`;
}

/** The database a redis:// URL names, when it names one other than 0. */
function databaseOf(redisUrl: string): string | undefined {
  try {
    const database = new URL(redisUrl).pathname.replace(/^\//, '');
    return database === '' || database === '0' ? undefined : database;
  } catch {
    return undefined;
  }
}
