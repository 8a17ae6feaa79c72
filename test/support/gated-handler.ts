import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/**
 * A handler of `email.sent` that runs until the test opens its gate, like a slow downstream call.
 * Counts how many copies of it started and finished, per event id, over every app sharing it.
 */
@Injectable()
export class GatedHandler {
  readonly started = new Map<string, number>();
  readonly finished = new Map<string, number>();
  private opened = false;
  private readonly waiting: (() => void)[] = [];

  @OnKeplarsEvent('email.sent')
  async onSent(event: KeplarsEvent): Promise<void> {
    this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
    if (!this.opened) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.finished.set(event.id, (this.finished.get(event.id) ?? 0) + 1);
  }

  open(): void {
    this.opened = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
