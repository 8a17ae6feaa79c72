import autocannon from 'autocannon';
import { WEBHOOK_PATH } from '../bench-config.js';
import type { SignedEventSource } from './signed-events.js';

export interface LoadOptions {
  readonly port: number;
  readonly events: SignedEventSource;
  readonly connections: number;
  /** Seconds to run, or… */
  readonly durationSeconds?: number;
  /** …how many requests to send. */
  readonly amount?: number;
  /** How many events to sign before the clock starts (see `SignedEventSource.prepare`). */
  readonly prepare?: number;
  /** How long a request may take before it counts as failed. @default 10 */
  readonly timeoutSeconds?: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  /** Latency percentiles of 2xx answers, in milliseconds (µs resolution). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly completed: number;
  readonly ok: number;
  /** Answers that were not 2xx, and connection errors or timeouts: a run with any is not a measurement. */
  readonly failures: number;
  readonly seconds: number;
}

/** Drives one server with distinct signed events from `events` and measures it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  if (options.prepare !== undefined) options.events.prepare(options.prepare);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}`,
        connections: options.connections,
        pipelining: 1,
        timeout: options.timeoutSeconds ?? 10,
        ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSeconds ?? 5 }),
        requests: [
          {
            method: 'POST',
            path: WEBHOOK_PATH,
            // A fresh body and signature for every request (each event is sent once, so autocannon
            // may add its Content-Length to that event's headers).
            setupRequest: (request) => Object.assign(request, options.events.next()),
          },
        ],
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    // autocannon's own histogram keeps whole milliseconds: too coarse for a p50 of a few ms.
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
    });
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    completed: result.requests.total,
    ok: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
  };
}

class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private count = 0;

  record(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const sorted = this.values.subarray(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.ceil((p / 100) * this.count) - 1)]!;
  }
}
