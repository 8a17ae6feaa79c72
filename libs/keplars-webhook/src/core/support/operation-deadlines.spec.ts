import { jest } from '@jest/globals';
import { OperationDeadlines } from './operation-deadlines.js';

const TIMEOUT_MS = 1000;

describe('OperationDeadlines: one timer for every Redis call in flight', () => {
  let deadlines: OperationDeadlines;
  let failures: string[];
  const watch = (name: string) => deadlines.start((error) => failures.push(`${name}: ${error.message}`));

  beforeEach(() => {
    jest.useFakeTimers();
    deadlines = new OperationDeadlines(TIMEOUT_MS, () => new Error('timed out'));
    failures = [];
  });
  afterEach(() => jest.useRealTimers());

  it('fails an operation that has not finished when its time is up, and only then', () => {
    watch('a');
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(failures).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(failures).toEqual(['a: timed out']);
  });

  it('never fails an operation that finished in time; a late answer is refused', () => {
    const inTime = watch('in time');
    expect(deadlines.finish(inTime)).toBe(true);
    const late = watch('late');
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(failures).toEqual(['late: timed out']);
    expect(deadlines.finish(late)).toBe(false);
    expect(deadlines.finish(inTime)).toBe(false);
  });

  it('fails each of many operations at its own deadline, whatever order the others finish in', () => {
    // op0 starts at 0 ms, op1 at 100 ms, … op9 at 900 ms; their deadlines are 1000 ms later.
    const started = Array.from({ length: 10 }, (_, i) => {
      if (i > 0) jest.advanceTimersByTime(100);
      return watch(`op${i}`);
    });
    // Answers out of order (a script reloaded after NOSCRIPT is answered after later calls).
    for (const i of [5, 0, 7, 1]) deadlines.finish(started[i]!);
    jest.advanceTimersByTime(TIMEOUT_MS - 900 + 250); // now 1250 ms: the deadlines of op0, op1 and op2 have passed
    expect(failures).toEqual(['op2: timed out']);
    jest.advanceTimersByTime(1000);
    expect(failures).toEqual(['op2: timed out', 'op3: timed out', 'op4: timed out', 'op6: timed out', 'op8: timed out', 'op9: timed out']);
  });

  it('keeps no timer once nothing is in flight, and starts one again for the next operation', () => {
    deadlines.finish(watch('a'));
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(jest.getTimerCount()).toBe(0);
    watch('b');
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(failures).toEqual(['b: timed out']);
  });
});
