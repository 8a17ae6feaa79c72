/** One call waiting for its turn's statement: its key, its arguments, and its caller. */
export interface BatchedCall<A, R> {
  readonly key: string;
  readonly args: A;
  readonly succeed: (result: R) => void;
  readonly fail: (error: unknown) => void;
}

/**
 * Collects the calls made in one turn of the event loop and runs them as one statement
 * (`setImmediate`: after the turn's I/O, so every request that arrived in it has had its say), as
 * the Redis store batches its scripts. A statement may name each row once (Postgres refuses an
 * `INSERT … ON CONFLICT` that touches a row twice), so a second call for the same key waits for the
 * next statement, or is answered from the first when `answerRepeat` can.
 */
export class StatementBatch<A, R> {
  private pending: BatchedCall<A, R>[] = [];

  /**
   * @param run runs the calls (distinct keys) as one statement; resolves each call's result, in order.
   * @param answerRepeat the answer to a call for a key already in the statement, from the first
   *   call's result; `undefined` sends it with the next statement instead.
   */
  constructor(
    private readonly run: (calls: readonly BatchedCall<A, R>[]) => Promise<readonly R[]>,
    private readonly answerRepeat?: (first: R) => R,
  ) {}

  add(call: BatchedCall<A, R>): void {
    if (this.pending.push(call) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const calls = this.pending;
    this.pending = [];
    const distinct: BatchedCall<A, R>[] = [];
    const seen = new Map<string, BatchedCall<A, R>[]>();
    for (const call of calls) {
      const repeats = seen.get(call.key);
      if (repeats === undefined) {
        seen.set(call.key, []);
        distinct.push(call);
      } else if (this.answerRepeat) repeats.push(call);
      else this.add(call); // next turn's statement
    }
    this.run(distinct).then(
      (results) =>
        distinct.forEach((call, index) => {
          const result = results[index]!;
          call.succeed(result);
          for (const repeat of seen.get(call.key)!) repeat.succeed(this.answerRepeat!(result));
        }),
      (error: unknown) => {
        for (const call of distinct) {
          call.fail(error);
          for (const repeat of seen.get(call.key)!) repeat.fail(error);
        }
      },
    );
  }
}
