import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { CountingHandlers } from './support/counting-handlers.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 10, point 2: the memory store keeps at most `maxEvents`. Past it, the oldest handled event is
// forgotten before its window ends, and a redelivery of it runs its handlers again: a limit that stays
// (memory must stay flat), but that is now said out loud, at most once a minute.
const SECRET = 'whsec_bounds';
const EVICTION_WARNING = /forgot \d+ handled events? before (its|their) deduplication window ended.*maxEvents \(3\)/;

describe.each(ADAPTERS)('the memory store past maxEvents, on %s', (adapter) => {
  let app: INestApplication;
  const logs = new CapturedLogs();
  const deliver = (payload: object) => postKeplarsEvent(app, payload, { secret: SECRET });

  beforeAll(async () => {
    app = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, deduplication: { store: 'memory', maxEvents: 3 } })],
      providers: [CountingHandlers],
      logger: logs,
    });
  });
  afterAll(() => app.close());

  it('warns when a handled event is forgotten before its window ends, at most once a minute', async () => {
    const payloads = Array.from({ length: 12 }, () => buildKeplarsPayload('email.delivered'));
    const mark = logs.mark();
    for (const payload of payloads.slice(0, 3)) expect((await deliver(payload)).status).toBe(200);
    expect(logs.since(mark, 'warn')).toEqual([]);

    for (const payload of payloads.slice(3)) expect((await deliver(payload)).status).toBe(200);
    const warnings = logs.since(mark, 'warn').map((line) => line.message);
    expect(warnings).toEqual([expect.stringMatching(EVICTION_WARNING)]);

    // The limit the warning speaks of: the first event, forgotten, runs its handlers again.
    const first = String(payloads[0]!.id);
    expect((await deliver(payloads[0]!)).body).toEqual({ received: true });
    expect(app.get(CountingHandlers).audit.get(first)).toBe(2);
  });
});
