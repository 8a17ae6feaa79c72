import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeplarsIdempotencyStore } from '../../core/ports/idempotency-store.js';
import { BatchedDeliveryQueue, type WriteToCheck } from './batched-delivery-queue.js';

export {
  deliveryJobId,
  KeplarsQueueUnavailableError,
  UNREADABLE_JOB_NAME,
  unreadableJobId,
  type QueueWrite,
} from './batched-delivery-queue.js';

/** Where an event's "handled" mark lives when it is on the queue's own Redis: see {@link KeplarsDeliveryQueue}. */
export type HandledMarkOf = (eventKey: string) => { readonly key: string; readonly field: string };

// For each delivery of a batch, in order: 1 if its job is in Redis (waiting, delayed, running, a dead
// letter) or its event is marked handled, else 0. ARGV[1] is the mark's field; ARGV[1 + i] says how
// many keys delivery i has in KEYS: 1 (its job's) or 2 (and its event's mark).
const QUEUED_OR_HANDLED = `
local answers, k = {}, 1
for i = 2, #ARGV do
  local seen = redis.call('EXISTS', KEYS[k])
  if seen == 0 and ARGV[i] == '2' then seen = redis.call('HEXISTS', KEYS[k + 1], ARGV[1]) end
  answers[i - 1] = seen
  k = k + tonumber(ARGV[i])
end
return answers`;
const SCRIPT_COMMAND = 'keplarsQueuedOrHandled';

/**
 * The receiving side of queue mode on Redis ({@link BatchedDeliveryQueue} does the batching). On one
 * Redis server (not a Cluster) one script asks "queued or handled?" for a whole batch (the marks too,
 * when the store keeps them on this Redis: `handledMarkOf`). On a Cluster each delivery goes alone:
 * its job's key and the store's mark may live on two nodes.
 */
export class KeplarsDeliveryQueue extends BatchedDeliveryQueue {
  constructor(
    queue: Queue,
    headerNames: readonly string[],
    private readonly client: Redis,
    private readonly store: KeplarsIdempotencyStore | undefined,
    timeoutMs: number,
    /** Given when the store's marks live on the queue's Redis: the check reads them in its script. */
    private readonly handledMarkOf?: HandledMarkOf,
  ) {
    const batches = (client as { isCluster?: boolean }).isCluster !== true;
    super(queue, headerNames, timeoutMs, batches, 'Redis');
    if (batches) client.defineCommand(SCRIPT_COMMAND, { lua: QUEUED_OR_HANDLED });
  }

  protected async queuedOrHandled(writes: readonly WriteToCheck[]): Promise<readonly boolean[]> {
    if ((this.client as { isCluster?: boolean }).isCluster === true) return this.oneByOne(writes);
    const keys: string[] = [];
    const args: (string | number)[] = ['!done'];
    const elsewhere: (Promise<boolean> | false)[] = []; // marks the script cannot read: the store's own call
    for (const { jobId, eventKey } of writes) {
      keys.push(this.queue.toKey(jobId));
      if (eventKey !== undefined && this.handledMarkOf) {
        const mark = this.handledMarkOf(eventKey);
        keys.push(mark.key);
        args[0] = mark.field;
        args.push(2);
        elsewhere.push(false);
      } else {
        args.push(1);
        elsewhere.push(this.isHandled(eventKey));
      }
    }
    const [seen, handled] = await Promise.all([this.script(keys, args), Promise.all(elsewhere)]);
    return writes.map((_, index) => seen[index] === 1 || handled[index] === true);
  }

  private script(keys: readonly string[], args: readonly (string | number)[]): Promise<number[]> {
    const command = (this.client as unknown as Record<typeof SCRIPT_COMMAND, (...keysAndArgs: (number | string)[]) => Promise<number[]>>)[SCRIPT_COMMAND];
    return command.call(this.client, keys.length, ...keys, ...args);
  }

  /** On a Cluster: the job's key and the store's mark, each asked where it lives. */
  private oneByOne(writes: readonly WriteToCheck[]): Promise<boolean[]> {
    return Promise.all(
      writes.map(async ({ jobId, eventKey }) => {
        const [queued, handled] = await Promise.all([this.client.exists(this.queue.toKey(jobId)), this.isHandled(eventKey)]);
        return queued === 1 || handled;
      }),
    );
  }

  private isHandled(eventKey: string | undefined): Promise<boolean> | false {
    return eventKey !== undefined && this.store?.isHandled ? this.store.isHandled(eventKey) : false;
  }
}
