import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';

/** Two handlers that count, per event id, how many times each ran to success; slow enough to overlap. */
@Injectable()
export class CountingHandlers {
  readonly audit = new Map<string, number>();
  readonly analytics = new Map<string, number>();

  @OnKeplarsEvent('*')
  async recordAudit(event: KeplarsEvent): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.audit.set(event.id, (this.audit.get(event.id) ?? 0) + 1);
  }

  @OnKeplarsEvent(['email.delivered', 'email.opened'])
  updateAnalytics(event: KeplarsEvent): void {
    this.analytics.set(event.id, (this.analytics.get(event.id) ?? 0) + 1);
  }
}

/** Adds up per-id counts over several app instances. */
export function totalRuns(maps: readonly Map<string, number>[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const map of maps) for (const [id, runs] of map) total.set(id, (total.get(id) ?? 0) + runs);
  return total;
}
