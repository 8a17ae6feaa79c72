/** One operation being watched: its deadline, and how to fail it (until it has finished). */
export interface Watched {
  readonly deadline: number;
  fail: ((error: Error) => void) | undefined;
}

/**
 * Gives up on operations that take longer than one fixed time, with a single timer for all of them
 * instead of a timer (and the promises racing it) per operation. Every operation gets the same time,
 * so deadlines fall in the order operations start: a queue whose head expires first. Operations on one
 * Redis connection are answered in the order they were sent, so the head is nearly always the one
 * finishing, and the queue holds little more than the operations in flight.
 */
export class OperationDeadlines {
  private readonly queue: Watched[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param timeoutMs how long each operation may take
   * @param timedOut the error an operation fails with when its time is up
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly timedOut: () => Error,
  ) {}

  /**
   * Starts watching an operation: `fail` is called with {@link timedOut}'s error if {@link finish} has
   * not been called on the returned ticket within `timeoutMs`.
   */
  start(fail: (error: Error) => void): Watched {
    const watched: Watched = { deadline: Date.now() + this.timeoutMs, fail };
    this.queue.push(watched);
    this.timer ??= this.schedule(this.timeoutMs);
    return watched;
  }

  /** The operation answered: whether it did so in time (if not, it has already been failed). */
  finish(watched: Watched): boolean {
    if (watched.fail === undefined) return false;
    watched.fail = undefined;
    this.dropFinished();
    return true;
  }

  private schedule(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.expire(), ms);
    timer.unref(); // a Redis call in flight does not keep the process alive on its own
    return timer;
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.head < this.queue.length && this.queue[this.head]!.deadline <= now) {
      const { fail } = this.queue[this.head]!;
      this.queue[this.head++]!.fail = undefined;
      fail?.(this.timedOut());
    }
    this.dropFinished();
    if (this.head < this.queue.length) this.timer = this.schedule(this.queue[this.head]!.deadline - now);
  }

  /** Forgets the finished operations at the head of the queue, so finished ones do not pile up. */
  private dropFinished(): void {
    const { queue } = this;
    while (this.head < queue.length && queue[this.head]!.fail === undefined) this.head++;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
