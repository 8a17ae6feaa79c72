import { Injectable } from '@nestjs/common';
import { OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { runKeyOf } from './malformed-requests.js';

export interface RecordedRun {
  readonly id: string;
  readonly type: string;
  /** Which body it ran for (see `runKeyOf`), to match it to the request that carried it. */
  readonly key: string;
}

/** A handler for every event that records each run; it never throws. */
@Injectable()
export class EveryEventRecorder {
  readonly runs: RecordedRun[] = [];

  @OnKeplarsEvent('*')
  record(event: KeplarsEvent): void {
    this.runs.push({ id: event.id, type: event.type, key: runKeyOf(event.body, event.emailId) });
  }
}
