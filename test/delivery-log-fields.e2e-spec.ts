import { ConsoleLogger, Injectable, type INestApplication, type LoggerService } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import type { Redis } from 'ioredis';
import { connectRedis, deleteKeys, REDIS_URL, uniqueKeyPrefix } from './support/redis.js';
import { waitFor } from './support/wait-for.js';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §6: a log line about a delivery carries the event's id, type and (queue mode) attempt as
// fields under Nest's JSON logger, readably in its text logger; no body, recipient or secret.
const SECRET = 'whsec_log_fields_0b9e3d';
const RECIPIENT = 'log.reader@customer.example';
const SUBJECT = 'Payslip for March, personal';

@Injectable()
class FailingHandlers {
  readonly attempts = new Map<string, number>();

  @OnKeplarsEvent('email.bounced')
  async updateCrm(event: KeplarsEvent): Promise<void> {
    this.attempts.set(event.id, (this.attempts.get(event.id) ?? 0) + 1);
    throw new Error('CRM is down');
  }
}

/** What Nest's console logger writes, caught on its way to stdout and stderr. */
class WrittenOutput {
  private readonly chunks: string[] = [];
  private readonly originals = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write;
    stream.write = ((chunk: string | Uint8Array) => {
      this.chunks.push(String(chunk));
      return true;
    }) as typeof stream.write;
    return () => (stream.write = write);
  });

  text(): string {
    return this.chunks.join('');
  }
  /** The JSON records written, one a line. */
  records(): Record<string, any>[] {
    return this.text()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  }
  restore(): void {
    for (const restore of this.originals) restore();
  }
}

describe.each(ADAPTERS)('delivery log lines carry the event as fields, on %s', (adapter) => {
  let output: WrittenOutput;
  let app: INestApplication | undefined;
  const payload = (overrides: Parameters<typeof buildKeplarsPayload>[1] = {}) =>
    buildKeplarsPayload('email.bounced', { recipient: RECIPIENT, subject: SUBJECT, ...overrides });
  async function start(logger: LoggerService, options: Partial<KeplarsWebhookOptions> = {}): Promise<INestApplication> {
    app = await createWebhookApp({ adapter, logger, imports: [KeplarsWebhookModule.forRoot({ secret: SECRET, ...options })], providers: [FailingHandlers] });
    return app;
  }

  beforeEach(() => {
    output = new WrittenOutput();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    output.restore();
  });

  it("under ConsoleLogger({ json: true }): the failure's record has eventId and eventType as fields", async () => {
    await start(new ConsoleLogger({ json: true }));
    const event = payload({ id: `evt_json_${adapter}` });
    expect((await postKeplarsEvent(app!, event, { secret: SECRET })).status).toBe(500);

    const failure = output.records().find((record) => record.context === 'KeplarsWebhook' && record.level === 'error');
    expect(failure).toMatchObject({
      level: 'error',
      message: expect.stringContaining(`Handler FailingHandlers.updateCrm failed on email.bounced evt_json_${adapter}`),
      params: { eventId: `evt_json_${adapter}`, eventType: 'email.bounced' },
      stack: expect.stringContaining('CRM is down'),
    });
    for (const secret of [SECRET, RECIPIENT, SUBJECT, JSON.stringify(event)]) expect(output.text()).not.toContain(secret);
  });

  it('under the text logger: the fields follow the words, readably, on the same line', async () => {
    await start(new ConsoleLogger({ colors: false }));
    expect((await postKeplarsEvent(app!, payload({ id: `evt_text_${adapter}` }), { secret: SECRET })).status).toBe(500);
    const line = output
      .text()
      .split('\n')
      .find((text) => text.includes('Handler FailingHandlers.updateCrm failed'));
    expect(line).toContain(`{ eventId: 'evt_text_${adapter}', eventType: 'email.bounced' }`);
  });

  describe('queue mode', () => {
    const prefix = uniqueKeyPrefix(`log-fields-${adapter}`).slice(0, -1);
    let redis: Redis;
    beforeAll(() => {
      redis = connectRedis();
    });
    afterAll(async () => {
      await deleteKeys(redis, prefix);
      await redis.quit();
    });

    it("a worker's lines carry the attempt too", async () => {
      await start(new ConsoleLogger({ json: true }), {
        queue: { redis: REDIS_URL, prefix, attempts: 2, backoff: { delaySeconds: 0.05, jitter: 0 }, stalledSeconds: 5 },
        deduplication: { store: { redis: REDIS_URL, keyPrefix: `${prefix}:dedup:` } },
      });
      const id = `evt_queue_${adapter}`;
      expect((await postKeplarsEvent(app!, payload({ id }), { secret: SECRET })).status).toBe(200);
      const failures = () => output.records().filter((record) => record.level === 'error' && String(record.message).includes('FailingHandlers.updateCrm failed'));
      await waitFor(() => failures().length === 2, 'both attempts to fail');
      expect(failures().map((record) => record.params)).toEqual([
        { eventId: id, eventType: 'email.bounced', attempt: 1 },
        { eventId: id, eventType: 'email.bounced', attempt: 2 },
      ]);
      await waitFor(() => output.records().some((record) => String(record.message).includes('is now a dead letter')), 'the dead-letter line');
      expect(output.records().find((record) => String(record.message).includes('is now a dead letter'))!.params).toEqual({ eventId: id, eventType: 'email.bounced', attempt: 2 });
      expect(output.text()).not.toContain(RECIPIENT);
    });
  });
});
