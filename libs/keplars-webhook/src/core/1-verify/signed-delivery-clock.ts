/**
 * When each endpoint last received a correctly signed delivery: the signal behind "Keplars stopped
 * calling us" alerts and the health indicator. Kept per endpoint (SPEC §7), so one Keplars account
 * going silent shows while the others keep calling. Until an endpoint's first one, it counts from
 * startup, so an endpoint that never hears from Keplars ages like one that stopped hearing from it.
 */
export class SignedDeliveryClock {
  private readonly startedAt = Date.now();
  private readonly clocks = new Map<string, EndpointClock>();

  /**
   * @param receivingEndpoints the endpoints whose age is reported (those that receive requests: not a
   *   queue worker only); read when the ages are, since endpoints are added as the module's imports start.
   */
  constructor(private readonly receivingEndpoints: () => readonly string[] = () => []) {}

  /** The clock of one endpoint, for its guard to tick on each signed delivery. */
  endpoint(name: string): EndpointClock {
    let clock = this.clocks.get(name);
    if (clock === undefined) {
      clock = new EndpointClock(this.startedAt);
      this.clocks.set(name, clock);
    }
    return clock;
  }

  /** Seconds since the last signed delivery of every receiving endpoint, in the order they were added. */
  ages(now = Date.now()): Map<string, number> {
    const ages = new Map<string, number>();
    for (const name of this.receivingEndpoints()) ages.set(name, this.endpoint(name).ageSeconds(now));
    for (const [name, clock] of this.clocks) if (!ages.has(name)) ages.set(name, clock.ageSeconds(now));
    return ages;
  }
}

/** One endpoint's time of its last signed delivery. */
export class EndpointClock {
  constructor(private last: number) {}

  signed(): void {
    this.last = Date.now();
  }

  /** Seconds since the last signed delivery (or since startup, before the first). */
  ageSeconds(now = Date.now()): number {
    return Math.max(0, now - this.last) / 1000;
  }
}
