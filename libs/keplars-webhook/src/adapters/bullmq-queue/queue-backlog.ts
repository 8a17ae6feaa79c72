import type { KeplarsHealthThresholds, KeplarsHealthPart, KeplarsHealthProbe } from '../../core/ports/health-probe.js';
import type { QueueBacklog } from '../../core/ports/delivery-queue.js';

/**
 * What {@link readQueueBacklog} needs of a BullMQ `Queue`, spelled out so that this file's types name
 * nothing of bullmq: its declarations are reachable from the package's, and apps without bullmq compile.
 */
export interface BacklogSource {
  getJobCounts(...types: ('waiting' | 'active' | 'delayed' | 'failed')[]): Promise<Record<string, number>>;
  getJobs(types: 'waiting'[], start: number, end: number, asc: boolean): Promise<readonly { readonly timestamp: number }[]>;
}

/** Reads the queue's counts and the age of its oldest waiting job from Redis, in one round of calls. */
export async function readQueueBacklog(queue: BacklogSource, now = Date.now()): Promise<QueueBacklog> {
  const [counts, oldest] = await Promise.all([queue.getJobCounts('waiting', 'active', 'delayed', 'failed'), queue.getJobs(['waiting'], 0, 0, true)]);
  const waitedMs = oldest[0] === undefined ? 0 : Math.max(0, now - oldest[0].timestamp);
  return {
    waiting: counts['waiting'] ?? 0,
    active: counts['active'] ?? 0,
    delayed: counts['delayed'] ?? 0,
    deadLetters: counts['failed'] ?? 0,
    oldestWaitingAgeSeconds: waitedMs / 1000,
  };
}

/**
 * The queue's part of the health check: reachable, and its backlog and dead letters within the
 * thresholds the app set (each off unless set).
 */
export class QueueHealthProbe implements KeplarsHealthProbe {
  readonly name = 'queue';

  constructor(
    private readonly read: () => Promise<QueueBacklog>,
    private readonly timeoutMs: number,
  ) {}

  async check({ maxWaiting, maxDeadLetters }: KeplarsHealthThresholds): Promise<KeplarsHealthPart> {
    let backlog: QueueBacklog;
    try {
      backlog = await withTimeout(this.read(), this.timeoutMs);
    } catch (error) {
      return { status: 'down', message: `the queue's server is unreachable: ${error instanceof Error ? error.message : String(error)}` };
    }
    const problems: string[] = [];
    if (maxWaiting !== undefined && backlog.waiting > maxWaiting) problems.push(`${backlog.waiting} deliveries waiting (more than ${maxWaiting})`);
    if (maxDeadLetters !== undefined && backlog.deadLetters > maxDeadLetters) {
      problems.push(`${backlog.deadLetters} dead letter(s) (more than ${maxDeadLetters}): list and replay them with "npx keplars-webhook dead-letters list" or KeplarsDeadLetters`);
    }
    const details = { ...backlog, oldestWaitingAgeSeconds: Math.round(backlog.oldestWaitingAgeSeconds * 10) / 10 };
    return problems.length === 0 ? { status: 'up', ...details } : { status: 'down', message: problems.join('; '), ...details };
  }
}

function withTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  operation.catch(() => undefined);
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
