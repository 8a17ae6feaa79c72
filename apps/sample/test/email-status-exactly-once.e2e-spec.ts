import type { INestApplication } from '@nestjs/common';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { ADAPTERS } from '../../../test/support/webhook-app.js';
import { DATABASE } from '../src/database/database.module.js';
import type { Sql } from '../src/database/sql.js';
import { DATABASES, get, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The email statuses are written by a transactional handler (SPEC §4b): the history row, the status
// and the handler's success mark commit together or not at all. So each event is written exactly
// once: not twice when copies arrive at the same time, and not half when the handler fails.

const deliver = (app: INestApplication, payload: object) => postKeplarsEvent(app, payload, { secret: TEST_SECRET });

/** The handler's log lines about one email: "recorded" each time it wrote, "already recorded" each time it found the event written. */
const writesOf = (logs: CapturedLogs, emailId: string) =>
  logs.lines.filter((line) => line.context === 'EmailStatusService' && line.message.startsWith(`${emailId}: `)).map((line) => line.message);

describe.each(DATABASES.flatMap((database) => ADAPTERS.map((adapter) => [database, adapter] as const)))('on %s, %s', (database, adapter) => {
  let app: INestApplication;
  const logs = new CapturedLogs();
  beforeAll(async () => {
    app = await startSampleApp(onDatabase(database), logs, [], adapter);
  });
  afterAll(() => app.close());

  it('writes an event once when copies of it arrive at the same time', async () => {
    const payload = buildKeplarsPayload('email.delivered', { emailId: 'em_copies' });
    const first = await Promise.all(Array.from({ length: 6 }, () => deliver(app, payload)));
    // A copy that came while another held the event may be told to retry (Keplars would): it does.
    for (const response of first.filter((answer) => answer.status !== 200)) expect(response.status).toBeGreaterThanOrEqual(400);
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true });

    expect(writesOf(logs, 'em_copies')).toEqual(['em_copies: email.delivered recorded, status delivered']);
    expect((await get(app, '/emails/em_copies')).body.history).toEqual([expect.objectContaining({ id: payload.id, type: 'email.delivered' })]);
  });

  it('rolls back what it wrote when it fails, and writes the event once on the retry', async () => {
    // The database refuses the first status write of this email, after its history row was written
    // in the same transaction. (A sequence: unlike a table, it keeps counting through the rollback.)
    const sql = app.get<Sql>(DATABASE);
    await sql.query('CREATE SEQUENCE status_writes');
    await sql.query(`
      CREATE FUNCTION refuse_first_status_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.email_id = 'em_fails_once' AND nextval('status_writes') = 1 THEN
          RAISE EXCEPTION 'the status write is refused once';
        END IF;
        RETURN NEW;
      END $$`);
    await sql.query('CREATE TRIGGER refuse_first_status_write BEFORE INSERT OR UPDATE ON emails FOR EACH ROW EXECUTE FUNCTION refuse_first_status_write()');

    const payload = buildKeplarsPayload('email.bounced', { emailId: 'em_fails_once', bounceType: 'hard', recipient: 'fails-once@example.com' });
    expect((await deliver(app, payload)).status).toBe(500);
    // Nothing of it is left: not the history row written before the failure, not the mark.
    expect((await get(app, '/emails/em_fails_once')).status).toBe(404);

    expect((await deliver(app, payload)).body).toEqual({ received: true });
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true });
    const { body } = await get(app, '/emails/em_fails_once');
    expect(body).toMatchObject({ status: 'bounced', history: [expect.objectContaining({ id: payload.id, type: 'email.bounced' })] });
    expect(body.history).toHaveLength(1);
    expect(writesOf(logs, 'em_fails_once')).toEqual(['em_fails_once: email.bounced recorded, status bounced']);
  });
});
