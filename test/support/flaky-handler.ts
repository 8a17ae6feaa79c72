import { Inject, Injectable, Optional } from '@nestjs/common';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/** What a downstream saw: attempts and successes per event id. Share one between app instances. */
export class DownstreamLedger {
  readonly attempts = new Map<string, number>();
  readonly successes = new Map<string, number>();
}

export const DOWNSTREAM_LEDGER = Symbol('DOWNSTREAM_LEDGER');

/**
 * Fails on events whose metadata asks for it (`{ fail: n }`: the first n attempts, counted by the
 * downstream, across instances when they share a ledger), like a flaky downstream service.
 */
@Injectable()
export class FlakyHandler {
  readonly ledger: DownstreamLedger;

  constructor(@Optional() @Inject(DOWNSTREAM_LEDGER) ledger?: DownstreamLedger) {
    this.ledger = ledger ?? new DownstreamLedger();
  }

  get attempts(): Map<string, number> {
    return this.ledger.attempts;
  }

  @OnKeplarsEvent('*')
  async onEvent(event: KeplarsEvent): Promise<void> {
    const attempt = (this.ledger.attempts.get(event.id) ?? 0) + 1;
    this.ledger.attempts.set(event.id, attempt);
    const failures = Number(event.metadata.fail ?? 0);
    if (attempt <= failures) throw new Error(`downstream timed out (postgres://app:hunter2@db) on attempt ${attempt}`);
    this.ledger.successes.set(event.id, (this.ledger.successes.get(event.id) ?? 0) + 1);
  }
}
