import { KeplarsDeadLetters } from '../queue/keplars-dead-letters.js';
import { KEPLARS_QUEUE_NAME } from '../queue/keplars-queue.options.js';
import { closeQueueConnection, loadBullMQ, openQueueConnection, redactedUrl } from '../queue/queue-connections.js';
import { DEAD_LETTERS_EXIT, DEAD_LETTERS_USAGE, parseDeadLettersArgs, runDeadLettersCommand, type CommandOutput } from './run-dead-letters.js';

export const KEPLARS_WEBHOOK_USAGE = `Usage: keplars-webhook <command>

Commands:
  dead-letters list|show|replay|discard   queue mode's dead letters (keplars-webhook dead-letters --help)

To send a test event to your app, see keplars-webhook-send --help.`;

/**
 * The whole `keplars-webhook` command, minus the process: today one command, `dead-letters`, which
 * opens the queue's Redis, acts, and closes it. Returns the exit code.
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
  const queue = new bullmq.Queue(KEPLARS_QUEUE_NAME, { connection, prefix });
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
