import { KeplarsDeadLetters } from '../adapters/bullmq-queue/keplars-dead-letters.js';
import { KEPLARS_QUEUE_NAME, type ResolvedPostgresQueue } from '../adapters/bullmq-queue/keplars-queue.options.js';
import { loadBullMQ } from '../adapters/bullmq-queue/queue-connections.js';
import { newPostgresQueue, postgresQueueClasses, postgresQueueConnection } from '../adapters/bullmq-queue/postgres-queue-connection.js';
import { DEAD_LETTERS_EXIT, runDeadLettersCommand, whereLooked, type CommandOutput, type DeadLettersCommand } from './run-dead-letters.js';

/** How long the command waits for PostgreSQL before it says it could not reach it. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * `keplars-webhook dead-letters …` on a queue on PostgreSQL. It never migrates: a schema the module
 * never wrote to is reported as such (BullMQ finds no ledger there), not created.
 */
export async function runOnPostgres(command: DeadLettersCommand, where: ResolvedPostgresQueue, output: CommandOutput): Promise<number> {
  let queue;
  try {
    const bullmq = await loadBullMQ();
    queue = newPostgresQueue(postgresQueueClasses(bullmq), KEPLARS_QUEUE_NAME, postgresQueueConnection(where, 'command', CONNECT_TIMEOUT_MS), { skipMetasUpdate: true });
  } catch (error) {
    output.err((error as Error).message.replace(/^KeplarsWebhookModule cannot start:\n\s*- /, ''));
    return DEAD_LETTERS_EXIT.failed;
  }
  queue.on('error', () => undefined); // a failed command says it once, below
  const looked = whereLooked(command);
  try {
    try {
      await queue.waitUntilReady();
    } catch (error) {
      if ((error as Error).name === 'SchemaMigrationRequiredError') {
        output.err(`No ${looked}: the module never wrote one there. Is it the schema of queue.schema (pass it as --schema)?`);
      } else {
        output.err(`Could not reach the ${looked}: ${(error as Error).message}`);
      }
      return DEAD_LETTERS_EXIT.failed;
    }
    return await runDeadLettersCommand(command, new KeplarsDeadLetters(queue), output);
  } catch (error) {
    output.err(`Could not reach the ${looked}: ${(error as Error).message}`);
    return DEAD_LETTERS_EXIT.failed;
  } finally {
    await queue.close().catch(() => undefined);
  }
}
