import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch with sub-millisecond resolution: comparable between processes of one machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
