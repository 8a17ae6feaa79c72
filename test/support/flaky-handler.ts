import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/** Fails on events whose metadata asks for it (`{ fail: n }`: the first n deliveries), like a flaky downstream. */
@Injectable()
export class FlakyHandler {
  readonly attempts = new Map<string, number>();
  readonly successes = new Map<string, number>();

  @OnKeplarsEvent('*')
  async onEvent(event: KeplarsEvent): Promise<void> {
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    const failures = Number(event.metadata.fail ?? 0);
    if (attempt <= failures) throw new Error(`downstream timed out (postgres://app:hunter2@db) on attempt ${attempt}`);
    this.successes.set(event.id, (this.successes.get(event.id) ?? 0) + 1);
  }
}
