import { Injectable, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { OnKeplarsEvent, type EmailOpenedEvent } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { CapturedLogs } from '../../../test/support/captured-logs.js';
import { ADAPTERS } from '../../../test/support/webhook-app.js';
import { databaseSchemaFrom } from '../src/database/open-database.js';
import { DATABASES, databaseOf, get, onDatabase, startSampleApp, TEST_SECRET } from './support/sample-app.js';

// The ledger's writes commit in the transaction that records the event as handled (SPEC §4b, §8), so
// what the sample shows counts each event exactly once: not twice when copies arrive at the same
// time, not twice when Keplars retries because another handler failed, and not half when the
// ledger's own write fails. On the embedded PGlite and on Postgres.

const deliver = (app: INestApplication, payload: object) => postKeplarsEvent(app, payload, { secret: TEST_SECRET });

/** A handler of the app's own that fails the first time it sees em_flaky: Keplars retries the event. */
@Injectable()
class FlakyAnalytics {
  failed = false;

  @OnKeplarsEvent('email.opened')
  track(event: EmailOpenedEvent): void {
    if (event.emailId === 'em_flaky' && !this.failed) {
      this.failed = true;
      throw new Error('the analytics service timed out');
    }
  }
}

describe.each(DATABASES.flatMap((database) => ADAPTERS.map((adapter) => [database, adapter] as const)))('on %s, %s', (database, adapter) => {
  let app: INestApplication;
  const logs = new CapturedLogs();
  beforeAll(async () => {
    app = await startSampleApp(onDatabase(database), logs, [FlakyAnalytics], adapter);
  });
  afterAll(() => app.close());

  it('counts an event once when copies of it arrive at the same time', async () => {
    const payload = buildKeplarsPayload('email.opened', { emailId: 'em_copies' });
    const first = await Promise.all(Array.from({ length: 6 }, () => deliver(app, payload)));
    // A copy that came while another held the event may be told to retry (Keplars would): it does.
    for (const response of first.filter((answer) => answer.status !== 200)) expect(response.status).toBeGreaterThanOrEqual(400);
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true });

    const { body } = await get(app, '/emails/em_copies');
    expect(body).toMatchObject({ status: 'opened', events: 1, opens: { count: 1 } });
    expect(body.timeline).toEqual([expect.objectContaining({ eventId: payload.id, type: 'email.opened' })]);
  });

  it('counts an event once when Keplars retries it because another handler of the app failed', async () => {
    const payload = buildKeplarsPayload('email.opened', { emailId: 'em_flaky' });
    expect((await deliver(app, payload)).status).toBe(500);
    expect((await deliver(app, payload)).body).toEqual({ received: true });
    expect((await get(app, '/emails/em_flaky')).body).toMatchObject({ events: 1, opens: { count: 1 }, timeline: [expect.objectContaining({ eventId: payload.id })] });
  });

  it('finishes on the retry an event whose suppression failed halfway: recorded once, suppressed once', async () => {
    // The database refuses the ledger's last write for this bounce, the first time: the record of the
    // address's suppression change, after the email and its timeline row were committed and the
    // suppression's own writes were made in the same call. (A sequence: unlike a table, it keeps
    // counting through the rollback.) All in the app's schema, which goes with the test.
    const db = databaseOf(app);
    const schema = databaseSchemaFrom(app.get(ConfigService));
    await db.query(`CREATE SEQUENCE ${schema}.change_writes`);
    await db.query(`
      CREATE FUNCTION ${schema}.refuse_first_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.address = 'fails-once@example.com' AND nextval('${schema}.change_writes') = 1 THEN
          RAISE EXCEPTION 'the suppression change is refused once';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER refuse_first_change BEFORE INSERT ON ${schema}.keplars_suppression_changes FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_first_change()`);

    const payload = buildKeplarsPayload('email.bounced', { emailId: 'em_fails_once', bounceType: 'hard', recipient: 'fails-once@example.com' });
    expect((await deliver(app, payload)).status).toBe(500);
    // The email is recorded (its own commit); of the suppression step nothing is left (one call, rolled back).
    expect((await get(app, '/emails/em_fails_once')).body).toMatchObject({ status: 'bounced', events: 1 });
    expect((await get(app, '/suppressions/fails-once@example.com')).body).toMatchObject({ sendable: true, history: [] });

    expect((await deliver(app, payload)).body).toEqual({ received: true });
    expect((await deliver(app, payload)).body).toEqual({ received: true, duplicate: true });
    expect((await get(app, '/emails/em_fails_once')).body).toMatchObject({ status: 'bounced', events: 1, timeline: [expect.objectContaining({ eventId: payload.id })] });
    expect((await get(app, '/suppressions/fails-once@example.com')).body).toMatchObject({ sendable: false, history: [expect.objectContaining({ change: 'suppressed', eventId: payload.id })] });
    // The app's @OnAddressSuppressed() handler heard of it once, after the write that did commit.
    expect(logs.lines.filter((line) => line.context === 'CrmSync' && line.message.includes('fails-once@example.com'))).toHaveLength(1);
  });
});
