import type { INestApplication } from '@nestjs/common';
import { KeplarsWebhookModule } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent, signKeplarsPayload } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from './support/captured-logs.js';
import { FlakyHandler } from './support/flaky-handler.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// Issue 10, points 8 and 9: what anyone can put in a request must not shape the log. Control
// characters in a signed event id are escaped in every line the module writes (a newline would forge
// a line, an ANSI escape colour the terminal); and a flood of unsigned requests writes a few lines
// and a summary, not one line each.
const SECRET = 'whsec_log_safety';
const moduleLines = (logs: CapturedLogs, mark: number) => logs.since(mark).filter((line) => line.context === 'KeplarsWebhook');

describe.each(ADAPTERS)('what the module writes to the log, on %s', (adapter) => {
  it('escapes control characters of a signed event id in every line (point 8)', async () => {
    const logs = new CapturedLogs();
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [FlakyHandler], logger: logs });
    const id = 'evt_1\nERROR [KeplarsWebhook] Forged line\r\u001b[31mred\u001b[0m\u2028end';
    const payload = buildKeplarsPayload('email.opened', { id, metadata: { fail: 1 } });
    const mark = logs.mark();
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(500);
    expect((await postKeplarsEvent(app, payload, { secret: SECRET })).status).toBe(200);
    await app.close();

    const lines = moduleLines(logs, mark);
    const aboutTheEvent = lines.filter((line) => line.message.includes('evt_1'));
    expect(aboutTheEvent.length).toBeGreaterThan(0);
    for (const line of aboutTheEvent) {
      const message = line.message.split(' Error: ')[0]!; // the handler's own stack, if any, follows
      expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(message).toContain('evt_1\\nERROR [KeplarsWebhook] Forged line\\r\\x1b[31mred\\x1b[0m\\u2028end');
    }
  });

  it('logs the first refusals of a flood one by one, then one summary (point 9)', async () => {
    const logs = new CapturedLogs();
    const app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], logger: logs });
    const body = JSON.stringify(buildKeplarsPayload('email.opened', { subject: 'private subject line' }));
    const signature = signKeplarsPayload(body, 'not-the-secret');
    const mark = logs.mark();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => postKeplarsEvent(app, body, { secret: SECRET, signature })));
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(401));
    }
    const duringFlood = moduleLines(logs, mark);
    expect(duringFlood).toHaveLength(10);
    expect(duringFlood.every((line) => /^Rejected a webhook from .*: signature does not match/.test(line.message))).toBe(true);

    await app.close(); // the summary of what was held back is written at the latest on shutdown
    const summary = moduleLines(logs, mark).slice(10).filter((line) => line.message.includes('more refused'));
    expect(summary.map((line) => line.message)).toEqual([
      expect.stringMatching(/^190 more refused webhook requests in the last \d+ s, not logged one by one: 190 with a signature that does not match \(401\); from 1 address\.$/),
    ]);
    const written = moduleLines(logs, mark).map((line) => line.message).join('\n');
    expect(written.length).toBeLessThan(11 * 400);
    expect(written).not.toContain(SECRET);
    expect(written).not.toContain('private subject line');
  });
});
