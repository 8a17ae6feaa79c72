// What a health check is made of: each mode adds a probe (the queue adds its reachability and backlog),
// the Nest shell's KeplarsHealthIndicator runs them all.

/** The limits past which {@link KeplarsHealthIndicator} reports the webhook down. Each is off unless set. */
export interface KeplarsHealthThresholds {
  /**
   * Down when no correctly signed delivery arrived for this long (counted from startup before the
   * first). Set it from your traffic: an instance that sees an event every few seconds can say 900.
   *
   * Each endpoint (each import of the module, SPEC §7) is judged on its own, so one Keplars account
   * going silent shows while the others keep calling. A number is the limit of every endpoint; an
   * object gives each endpoint its own, by name (`{ eu: 900, us: 900, apac: 86400 }`), and endpoints
   * it leaves out are reported, not judged. The app's only endpoint, when it gives none, is `default`.
   */
  maxSecondsSinceSignedDelivery?: number | Readonly<Record<string, number>>;
  /** Queue mode: down when more jobs than this wait for a worker. */
  maxWaiting?: number;
  /** Queue mode: down when more events than this sit in the dead letters (0: any dead letter). */
  maxDeadLetters?: number;
}

/** One part of the webhook's health, as a Terminus indicator reports it; `message` says why it is down. */
export interface KeplarsHealthPart {
  readonly status: 'up' | 'down';
  readonly [detail: string]: unknown;
}

/**
 * A part of the health check that a mode adds (the queue adds its reachability, backlog and dead
 * letters): the indicator runs every probe it is given and is down when one is.
 */
export interface KeplarsHealthProbe {
  readonly name: string;
  check(thresholds: KeplarsHealthThresholds): Promise<KeplarsHealthPart>;
}
