/**
 * When this instance last received a correctly signed delivery: the signal behind "Keplars stopped
 * calling us" alerts and the health indicator. Until the first one, it counts from startup, so an
 * instance that never hears from Keplars ages like one that stopped hearing from it.
 */
export class SignedDeliveryClock {
  private last = Date.now();

  signed(): void {
    this.last = Date.now();
  }

  /** Seconds since the last signed delivery (or since startup, before the first). */
  ageSeconds(now = Date.now()): number {
    return Math.max(0, now - this.last) / 1000;
  }
}
