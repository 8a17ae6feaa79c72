import type { KeplarsLog } from './keplars-log.js';

export interface RefusalLogOptions {
  /** Refusals logged one by one in each period; the rest are counted. @default 10 */
  readonly verbatim?: number;
  /** The period, in ms: with the defaults, at most ten lines and one summary a minute (a few MB a day, whatever the flood). @default 60000 */
  readonly periodMs?: number;
  readonly now?: () => number;
}

// Bounds of what a flood can make this keep: reasons come from a fixed list, addresses from anyone.
const MAX_REASONS = 16;
const MAX_ADDRESSES = 1_000;

/**
 * The log of refused requests, which anyone on the internet can cause: the first few of each period
 * are written as they come, the rest counted and summarised once the period ends ("1,234 more
 * refusals for a bad signature from 3 addresses in the last 10 s"), so a flood of bad requests cannot
 * fill a disk. What it keeps is bounded (a few reasons, at most 1,000 addresses), and it never sees a
 * secret or a body: only the reason and the address.
 */
export class RefusalLog {
  private readonly verbatim: number;
  private readonly periodMs: number;
  private readonly now: () => number;
  private periodStart = -Infinity;
  private written = 0;
  private held = 0;
  private readonly reasons = new Map<string, number>();
  private readonly addresses = new Set<string>();
  private moreAddresses = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: KeplarsLog,
    options: RefusalLogOptions = {},
  ) {
    this.verbatim = options.verbatim ?? 10;
    this.periodMs = options.periodMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * One refusal: `reason` names its kind in a few words with the status ("a bad signature (401)"),
   * `line` writes the full line, called only if this one is written as it comes.
   */
  refused(reason: string, address: string | undefined, line: () => string): void {
    const now = this.now();
    if (now - this.periodStart >= this.periodMs) {
      this.flush();
      this.periodStart = now;
      this.written = 0;
    }
    if (this.written < this.verbatim) {
      this.written++;
      this.log.warn(line());
      return;
    }
    this.held++;
    const key = this.reasons.has(reason) || this.reasons.size < MAX_REASONS ? reason : 'other reasons';
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
    if (this.addresses.size < MAX_ADDRESSES) this.addresses.add(address ?? 'an unknown address');
    else if (!this.addresses.has(address ?? 'an unknown address')) this.moreAddresses = true;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.periodStart + this.periodMs - now));
      this.timer.unref();
    }
  }

  /** Writes the summary of what was held back, if anything was. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held === 0) return;
    const seconds = Math.max(1, Math.round((this.now() - this.periodStart) / 1000));
    const reasons = [...this.reasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${count.toLocaleString('en-US')} ${reason}`);
    const addresses = this.moreAddresses ? `more than ${MAX_ADDRESSES.toLocaleString('en-US')} addresses` : `${this.addresses.size} address${this.addresses.size === 1 ? '' : 'es'}`;
    this.log.warn(
      `${this.held.toLocaleString('en-US')} more refused webhook request${this.held === 1 ? '' : 's'} in the last ${seconds} s, not logged one by one: ` +
        `${reasons.join(', ')}; from ${addresses}.`,
    );
    this.held = 0;
    this.reasons.clear();
    this.addresses.clear();
    this.moreAddresses = false;
  }
}
