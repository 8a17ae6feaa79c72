import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { KEPLARS_EMAIL_STATUSES, KeplarsDeadLetters, KeplarsEmailLedger, KeplarsWebhookModule, type KeplarsSuppressionReason } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { buildLibraryForProcesses, QueueAppProcess } from '../queue/support/queue-processes.js';
import { connectPostgres, dropSchemas, POSTGRES_URL, uniqueSchema } from '../support/postgres.js';
import { pick, seededRandom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';
import { runBounded } from './support/bounded-pool.js';
import { KilledWorkers } from './support/killed-workers.js';

// SPEC §8 under SPEC §4b's storm: the email ledger (`ledger: true`, its tables in the Postgres store's
// schema) kept by queue workers on Postgres that are SIGKILLed at random and replaced. Every email's
// lifecycle is sent (queued, sent, delivered, many opens and clicks; some bounce hard or soft, some
// complain, fail or are cancelled), each event with an id of its own, all in shuffled order, each as
// several concurrent copies. The ledger's writes linger after they commit (before the delivery records
// them) and the killer fires every 0.4-0.9 s, so kills land between the two. Afterwards, from the database and through
// KeplarsEmailLedger in this process: every counter equals the number of distinct events, every status
// the highest, every timeline has each event once, and the suppression list is what the events imply
// (under the default policy: hard bounce, complaint, 3 soft bounces within 7 days). The
// @OnAddressSuppressed() reaction (a plain handler) ran for each suppressed address, and only those;
// how many of its notices repeated is reported (a kill between its write and its mark repeats one).
// A job whose worker is killed twice while it holds it is failed by BullMQ (the module's workers allow
// one stall per job): such dead letters, and only those, are replayed through KeplarsDeadLetters, as
// an operator would, before the checks; the report says how many there were.
const SECRET = 'whsec_ledger_storm';
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20261208);
const EMAILS = Number(process.env.LEDGER_STORM_EMAILS ?? 80);
const COPIES = Number(process.env.LEDGER_STORM_COPIES ?? 3);
const MAX_KILLS = Number(process.env.LEDGER_STORM_KILLS ?? 12);
const MAX_OPENS = 12;
const MAX_CLICKS = 6;
const WORKERS = 2;
/** How long the ledger's transaction lingers after its write, on average (ms). */
const LEDGER_LINGER_MS = 40;
const SCRIPT = join(process.cwd(), 'test/postgres/support/effects-app-process.mjs');

const DAY_MS = 86_400_000;
/** The default policy (`ledger: true`): 3 soft bounces within 7 days; a soft-bounce suppression lasts 30 days. */
const SOFT_BOUNCES = { count: 3, windowMs: 7 * DAY_MS, expiresAfterMs: 30 * DAY_MS };
const RANK = new Map<string, number>(KEPLARS_EMAIL_STATUSES.map((status, rank) => [status, rank]));
const LEDGER_HANDLER = 'KeplarsEmailLedger.record';

interface PlannedEvent {
  readonly id: string;
  readonly type: string;
  readonly at: Date;
  readonly body: string;
  readonly bounceType?: 'hard' | 'soft';
}

interface PlannedEmail {
  readonly emailId: string;
  /** As Keplars wrote it (sometimes in capitals). */
  readonly recipient: string;
  readonly kind: string;
  readonly events: PlannedEvent[];
}

interface ExpectedSuppression {
  readonly reason: KeplarsSuppressionReason;
  readonly since: number;
  readonly eventId: string;
}

const KINDS = [
  ['engaged', 0.48],
  ['delivered', 0.1],
  ['soft-bounce', 0.18],
  ['hard-bounce', 0.08],
  ['complaint', 0.08],
  ['failed', 0.04],
  ['cancelled', 0.04],
] as const;

/** The emails, their events and the order of the deliveries, all from the seed. */
function planStorm(seed: number, emails: number, now: number) {
  const random = seededRandom(seed);
  const addresses = Array.from({ length: Math.max(6, Math.ceil(emails / 4)) }, (_, index) => `reader${index}@example.com`);
  // Soft bounces go to a few addresses only, so that some reach the threshold and some do not.
  const softAddresses = addresses.slice(0, 4);
  let eventCount = 0;
  const weighted = (): string => {
    let roll = random();
    for (const [kind, weight] of KINDS) if ((roll -= weight) < 0) return kind;
    return 'engaged';
  };
  const planned: PlannedEmail[] = Array.from({ length: emails }, (_, index) => {
    // The first few make sure every path is taken whatever the seed: soft bounces to one address (3)
    // and another (2), a hard bounce, a complaint; then the rest at random.
    const kind = index < 5 ? 'soft-bounce' : index === 5 ? 'hard-bounce' : index === 6 ? 'complaint' : weighted();
    // (The first address is suppressed by its soft bounces alone: no hard bounce or complaint reaches it.)
    const suppressing = kind === 'hard-bounce' || kind === 'complaint';
    const address =
      index < 3 ? softAddresses[0]! : index < 5 ? softAddresses[1]! : kind === 'soft-bounce' ? pick(random, softAddresses.slice(2)) : pick(random, suppressing ? addresses.slice(1) : addresses);
    const recipient = random() < 0.25 ? address.toUpperCase() : address;
    const emailId = `email_storm_${seed}_${index}`;
    const start = now - 3 * DAY_MS + Math.floor(random() * 2 * DAY_MS);
    const later = () => new Date(start + 60_000 + Math.floor(random() * (now - start - 120_000)));
    const steps: { type: string; at: Date; bounceType?: 'hard' | 'soft'; url?: string }[] = [];
    const at = (seconds: number) => new Date(start + seconds * 1000 + Math.floor(random() * 1000));
    if (kind === 'cancelled') steps.push({ type: 'email.scheduled', at: at(0) }, { type: 'email.cancelled', at: at(30) });
    else {
      steps.push({ type: 'email.queued', at: at(0) });
      if (kind === 'failed') steps.push({ type: 'email.failed', at: at(2) });
      else {
        steps.push({ type: 'email.sent', at: at(1) });
        // A type this version does not know: on the timeline, counted as an event, no status.
        if (random() < 0.15) steps.push({ type: 'email.deferred', at: at(2) });
        if (kind === 'soft-bounce' || kind === 'hard-bounce') steps.push({ type: 'email.bounced', at: at(5), bounceType: kind === 'soft-bounce' ? 'soft' : 'hard' });
        else {
          steps.push({ type: 'email.delivered', at: at(4) });
          if (kind !== 'delivered') {
            const opens = 1 + Math.floor(random() * (kind === 'complaint' ? 3 : MAX_OPENS));
            for (let open = 0; open < opens; open++) steps.push({ type: 'email.opened', at: later() });
            const clicks = kind === 'complaint' ? 0 : Math.floor(random() * (MAX_CLICKS + 1));
            for (let click = 0; click < clicks; click++) steps.push({ type: 'email.clicked', at: later(), url: `https://example.com/p/${click}?e=${index}` });
            if (kind === 'complaint') steps.push({ type: 'email.complained', at: later() });
          }
        }
      }
    }
    const events = steps.map((step): PlannedEvent => {
      const id = `evt_storm_${seed}_${eventCount++}`;
      const payload = buildKeplarsPayload(step.type, {
        id,
        emailId,
        recipient,
        subject: `Storm ${index}`,
        timestamp: step.at,
        ...(step.bounceType ? { bounceType: step.bounceType } : {}),
        ...(step.url ? { url: step.url } : {}),
      });
      return { id, type: step.type, at: step.at, body: JSON.stringify(payload), ...(step.bounceType ? { bounceType: step.bounceType } : {}) };
    });
    return { emailId, recipient, kind, events };
  });
  const events = planned.flatMap((email) => email.events);
  // Fisher-Yates from the seed: any event of any email may come first.
  for (let index = events.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [events[index], events[other]] = [events[other]!, events[index]!];
  }
  return { emails: planned, events, addresses, random };
}

/** What the events imply for the suppression list (SPEC §8, the default policy), by lower-cased address. */
function expectedSuppressions(emails: readonly PlannedEmail[], now: number): Map<string, ExpectedSuppression> {
  const causes = new Map<string, { reason: KeplarsSuppressionReason; at: number; cause: string; eventId: string; expiresAt?: number }[]>();
  const softBounces = new Map<string, number[]>();
  const softIds = new Map<string, string>();
  for (const email of emails) {
    const address = email.recipient.trim().toLowerCase();
    for (const event of email.events) {
      const list = causes.get(address) ?? [];
      if (event.type === 'email.complained' || (event.type === 'email.bounced' && event.bounceType === 'hard')) {
        list.push({ reason: event.type === 'email.complained' ? 'complaint' : 'hard-bounce', at: event.at.getTime(), cause: event.id, eventId: event.id });
      }
      if (event.type === 'email.bounced' && event.bounceType === 'soft') {
        softBounces.set(address, [...(softBounces.get(address) ?? []), event.at.getTime()]);
        softIds.set(`${address} ${event.at.getTime()}`, event.id);
      }
      causes.set(address, list);
    }
  }
  for (const [address, times] of softBounces) {
    for (const at of times) {
      const within = times.filter((other) => other > at - SOFT_BOUNCES.windowMs && other <= at).length;
      if (within < SOFT_BOUNCES.count) continue;
      const eventId = softIds.get(`${address} ${at}`)!;
      causes.get(address)!.push({ reason: 'soft-bounces', at, cause: `soft:${eventId}`, eventId, expiresAt: at + SOFT_BOUNCES.expiresAfterMs });
    }
  }
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const expected = new Map<string, ExpectedSuppression>();
  for (const [address, list] of causes) {
    const active = list.filter((cause) => cause.expiresAt === undefined || cause.expiresAt > now).sort((a, b) => a.at - b.at || byteOrder(a.cause, b.cause));
    if (active.length > 0) expected.set(address, { reason: active[0]!.reason, since: active[0]!.at, eventId: active[0]!.eventId });
  }
  return expected;
}

const report: string[] = [];
let build: ReturnType<typeof buildLibraryForProcesses>;
beforeAll(() => {
  build = buildLibraryForProcesses();
});
afterAll(() => build?.remove());
afterAll(() => console.log(report.join('\n')));

describe('the email ledger through queue mode on Postgres, with workers SIGKILLed', () => {
  const schema = uniqueSchema('ledger_storm');
  let pool: Pool;
  let reader: INestApplicationContext | undefined;
  const running = new Set<QueueAppProcess>();
  /** Every process started, the killed ones too (their output tells which ledger writes they made). */
  const started: QueueAppProcess[] = [];

  const start = async (role: 'receive' | 'process'): Promise<QueueAppProcess> => {
    const app = await QueueAppProcess.spawn(SCRIPT, role, {
      KEPLARS_LIBRARY: build.library,
      KEPLARS_ROLE: role,
      KEPLARS_SECRET: SECRET,
      EFFECTS_QUEUE: 'postgres',
      EFFECTS_DATABASE_URL: POSTGRES_URL,
      EFFECTS_SCHEMA: schema,
      EFFECTS_HANDLER: '0',
      EFFECTS_LEDGER: '1',
      EFFECTS_LEDGER_LINGER_MS: String(LEDGER_LINGER_MS),
    });
    running.add(app);
    started.push(app);
    return app;
  };

  beforeAll(async () => {
    pool = connectPostgres();
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.notices (address text NOT NULL, reason text NOT NULL, event_id text NOT NULL, pid int NOT NULL)`);
  });
  afterAll(async () => {
    await reader?.close();
    await Promise.all([...running].map((app) => app.stop()));
    await pool.end();
    await dropSchemas(schema, `${schema}_queue`);
  });

  it('leaves every counter, status, timeline and suppression exact: nothing lost, nothing counted twice', async () => {
    const now = Date.now();
    const { emails, events, addresses, random } = planStorm(SEED, EMAILS, now);
    const receiver = await start('receive');
    const began = Date.now();
    const workers = new KilledWorkers(() => start('process'), (victim) => running.delete(victim), random, { workers: WORKERS, maxKills: MAX_KILLS, pauseMs: [400, 900] });
    await workers.begin();

    // The storm, while the workers work and die: each event as COPIES concurrent deliveries; a delivery
    // not answered 200 is sent again a little later, as Keplars would (none is expected).
    const statuses = new Map<number, number>();
    await runBounded(events.length, 12, async (index) => {
      const event = events[index]!;
      await Promise.all(
        Array.from({ length: COPIES }, async () => {
          for (let attempt = 0; ; attempt++) {
            const { status } = await postKeplarsEvent(receiver.url, event.body, { secret: SECRET });
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200 || attempt === 5) return;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }),
      );
    });
    const sentIn = (Date.now() - began) / 1000;

    const scalar = async (sql: string, params: unknown[] = []) => Number((await pool.query(sql, params)).rows[0].n);
    const slowly = (condition: () => Promise<boolean>) => async () => (await condition()) || (await new Promise((resolve) => setTimeout(resolve, 150)), false);
    const recorded = () => scalar(`SELECT count(*) AS n FROM ${schema}.keplars_email_events`);
    await waitFor(slowly(async () => (await recorded()) >= events.length * 0.9), '90 % of the events on their timelines', 180_000);
    const kills = await workers.stop();
    const ids = events.map((event) => event.id);
    const done = () => scalar(`SELECT count(*) AS n FROM ${schema}.keplars_events WHERE event_key = ANY($1) AND done`, [ids]);
    const diagnosed = async (error: Error) => {
      const { rows } = await pool.query(`SELECT event_key FROM ${schema}.keplars_events WHERE event_key = ANY($1) AND done`, [ids]);
      const finished = new Set(rows.map((row) => row.event_key as string));
      const details = [];
      for (const event of events.filter((candidate) => !finished.has(candidate.id)).slice(0, 5)) {
        const marks = await pool.query(`SELECT * FROM ${schema}.keplars_events WHERE event_key = $1`, [event.id]);
        const handled = await pool.query(`SELECT handler FROM ${schema}.keplars_handler_marks WHERE event_key = $1`, [event.id]);
        const jobs = await pool.query(`SELECT id, state, attempts_made, attempts_started, stalled_count, failed_reason FROM ${schema}_queue.job WHERE id = $1`, [event.id]);
        details.push(`${event.id} ${event.type}: ${JSON.stringify(marks.rows)} marks ${JSON.stringify(handled.rows)} jobs ${JSON.stringify(jobs.rows)}`);
      }
      const logs = started.map((app) => app.log.replace(/^ledger-write .*\n/gm, '')).join('\n---\n');
      return new Error(`${error.message}: ${finished.size} of ${events.length} done, ${await recorded()} on timelines\n${details.join('\n')}\n${logs.slice(-6000)}`);
    };
    // Every event handled, or a dead letter: BullMQ fails a job whose worker died twice while holding
    // it ("job stalled more than allowable limit": the module's workers allow a job one stall).
    const settled = () =>
      scalar(
        `SELECT count(*) AS n FROM unnest($1::text[]) AS e(id)
         WHERE EXISTS (SELECT 1 FROM ${schema}.keplars_events k WHERE k.event_key = e.id AND k.done)
            OR EXISTS (SELECT 1 FROM ${schema}_queue.job j WHERE j.id = e.id AND j.state = 'failed')`,
        [ids],
      );
    await waitFor(slowly(async () => (await settled()) === events.length), 'every event to be done or a dead letter', 90_000).catch(async (error) => {
      throw await diagnosed(error);
    });

    // A fresh app on the same schema and queue (receiving only): KeplarsDeadLetters to replay those, as
    // an operator would, and KeplarsEmailLedger to read the ledger afterwards.
    @Module({
      imports: [
        KeplarsWebhookModule.forRoot({
          secret: SECRET,
          deduplication: { store: { postgres: pool, schema } },
          queue: { postgres: POSTGRES_URL, schema: `${schema}_queue`, role: 'receive' },
          ledger: true,
        }),
      ],
    })
    class ReaderModule {}
    reader = await NestFactory.createApplicationContext(ReaderModule, { logger: false });
    const problems: string[] = [];
    const letters = await reader.get(KeplarsDeadLetters).list({ limit: 1000 });
    for (const letter of letters) if (!/stalled more than allowable limit/.test(letter.reason)) problems.push(`dead letter ${letter.id}: ${letter.reason}`);
    if (letters.length > 0) {
      await reader.get(KeplarsDeadLetters).replayAll();
      await waitFor(slowly(async () => (await done()) === events.length), 'every event to be done after the replay', 60_000).catch(async (error) => {
        throw await diagnosed(error);
      });
    }
    const handledIn = (Date.now() - began) / 1000;

    // From the database: each email's row and timeline.
    const rows = new Map((await pool.query(`SELECT * FROM ${schema}.keplars_emails`)).rows.map((row) => [row.email_id as string, row]));
    const timelines = new Map<string, string[]>();
    for (const row of (await pool.query(`SELECT email_id, event_id FROM ${schema}.keplars_email_events`)).rows) {
      timelines.set(row.email_id, [...(timelines.get(row.email_id) ?? []), row.event_id]);
    }
    const time = (value: unknown) => (value === null || value === undefined ? undefined : new Date(value as string).getTime());
    const span = (events: readonly PlannedEvent[]) =>
      events.length === 0 ? [undefined, undefined] : [Math.min(...events.map((event) => event.at.getTime())), Math.max(...events.map((event) => event.at.getTime()))];
    let opens = 0;
    let clicks = 0;
    for (const email of emails) {
      const row = rows.get(email.emailId);
      if (!row) {
        problems.push(`${email.emailId}: no row`);
        continue;
      }
      const opened = email.events.filter((event) => event.type === 'email.opened');
      const clicked = email.events.filter((event) => event.type === 'email.clicked');
      opens += opened.length;
      clicks += clicked.length;
      const rank = Math.max(...email.events.map((event) => RANK.get(event.type.slice('email.'.length)) ?? -1));
      const expected = {
        opens: opened.length,
        clicks: clicked.length,
        events: email.events.length,
        status_rank: rank,
        recipient: email.recipient,
        opened: span(opened),
        clicked: span(clicked),
        seen: span(email.events),
        timeline: email.events.map((event) => event.id).sort(),
      };
      const actual = {
        opens: row.opens,
        clicks: row.clicks,
        events: row.events,
        status_rank: row.status_rank,
        recipient: row.recipient,
        opened: [time(row.first_opened_at), time(row.last_opened_at)],
        clicked: [time(row.first_clicked_at), time(row.last_clicked_at)],
        seen: [time(row.first_event_at), time(row.last_event_at)],
        timeline: [...(timelines.get(email.emailId) ?? [])].sort(),
      };
      if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${email.emailId} (${email.kind}): ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);
    }
    if (rows.size !== emails.length) problems.push(`${rows.size} email rows for ${emails.length} emails`);
    // The ledger's record is its own mark: one timeline row per event.
    const timelineRows = await scalar(`SELECT count(*) AS n FROM ${schema}.keplars_email_events`);
    if (timelineRows !== events.length) problems.push(`${timelineRows} timeline rows of ${LEDGER_HANDLER} for ${events.length} events`);
    const softBounceEvents = emails.flatMap((email) => email.events).filter((event) => event.bounceType === 'soft').length;
    const softBounceRows = await scalar(`SELECT count(*) AS n FROM ${schema}.keplars_soft_bounces`);
    if (softBounceRows !== softBounceEvents) problems.push(`${softBounceRows} soft-bounce rows for ${softBounceEvents} soft bounces`);

    // The suppression list: as the events imply, one 'suppressed' change per address, one notice (or
    // more: the reaction is a plain handler) for each address suppressed, none for any other.
    const expected = expectedSuppressions(emails, Date.now());
    const changes = new Map<string, number>();
    for (const row of (await pool.query(`SELECT address, change, event_id FROM ${schema}.keplars_suppression_changes`)).rows) changes.set(`${row.address} ${row.change}`, (changes.get(`${row.address} ${row.change}`) ?? 0) + 1);
    const expectedChanges = new Map([...expected.keys()].map((address) => [`${address} suppressed`, 1]));
    if (JSON.stringify([...changes].sort()) !== JSON.stringify([...expectedChanges].sort())) problems.push(`suppression changes ${JSON.stringify([...changes].sort())} instead of ${JSON.stringify([...expectedChanges].sort())}`);
    const notices = new Map<string, number>();
    for (const row of (await pool.query(`SELECT address FROM ${schema}.notices`)).rows) notices.set(row.address, (notices.get(row.address) ?? 0) + 1);
    if (JSON.stringify([...notices.keys()].sort()) !== JSON.stringify([...expected.keys()].sort())) problems.push(`notices for ${JSON.stringify([...notices.keys()].sort())}, suppressed ${JSON.stringify([...expected.keys()].sort())}`);

    // Through KeplarsEmailLedger, in this process: the list, the sending-side check, and each email
    // with its timeline in order.
    const ledger = reader.get(KeplarsEmailLedger);
    const listed = new Map<string, ExpectedSuppression>();
    for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
      const page = await ledger.suppressions({ limit: 7, cursor });
      for (const item of page.items) listed.set(item.address!, { reason: item.reason, since: item.since.getTime(), eventId: item.eventId! });
      cursor = page.next;
    }
    const sorted = (map: Map<string, ExpectedSuppression>) => JSON.stringify([...map].sort(([a], [b]) => a.localeCompare(b)));
    if (sorted(listed) !== sorted(expected)) problems.push(`suppressions() ${sorted(listed)} instead of ${sorted(expected)}`);
    const standings = await ledger.checkMany([...addresses.map((address) => address.toUpperCase()), 'never-mailed@example.com']);
    for (const standing of standings) {
      const wanted = expected.get(standing.address.toLowerCase());
      if (standing.sendable !== (wanted === undefined) || standing.suppressed?.reason !== wanted?.reason) problems.push(`check(${standing.address}): ${JSON.stringify(standing)}, expected ${JSON.stringify(wanted)}`);
    }
    for (const email of emails) {
      const found = await ledger.email(email.emailId);
      const order = [...email.events].sort((a, b) => a.at.getTime() - b.at.getTime() || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
      const status = KEPLARS_EMAIL_STATUSES[Math.max(...email.events.map((event) => RANK.get(event.type.slice('email.'.length)) ?? -1))];
      const opened = email.events.filter((event) => event.type === 'email.opened').length;
      const clicked = email.events.filter((event) => event.type === 'email.clicked').length;
      const got = found && { status: found.status, opens: found.opens.count, clicks: found.clicks.count, events: found.events, timeline: found.timeline.map((event) => event.eventId) };
      const want = { status, opens: opened, clicks: clicked, events: email.events.length, timeline: order.map((event) => event.id) };
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`email(${email.emailId}): ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
    }

    // Every ledger write is one commit that the event's id makes once: an event written twice would be counted twice.
    const writes = new Map<string, number>();
    for (const app of started) for (const [, id] of app.log.matchAll(/^ledger-write (\S+)$/gm)) writes.set(id!, (writes.get(id!) ?? 0) + 1);
    const writtenTwice = [...writes.values()].filter((n) => n > 1).length;
    if (writtenTwice > 0) problems.push(`${writtenTwice} events recorded more than once`);
    // Not every write is seen: a worker killed between a statement's commit and its answer never prints it
    // (the next delivery finds the mark and writes nothing). The counts above are what must hold.

    const repeatedNotices = [...notices.values()].filter((n) => n > 1).length;
    const reasons = [...expected.values()].reduce<Record<string, number>>((count, item) => ({ ...count, [item.reason]: (count[item.reason] ?? 0) + 1 }), {});
    report.push(
      `Ledger storm: seed ${SEED}, ${emails.length} emails, ${events.length} events (${opens} opens, ${clicks} clicks) x ${COPIES} concurrent copies in shuffled order ` +
        `(answers ${JSON.stringify(Object.fromEntries(statuses))}, sent in ${sentIn.toFixed(1)} s), ${WORKERS} workers on a Postgres queue, ${kills} SIGKILLed and replaced; ` +
        `all handled in ${handledIn.toFixed(1)} s (${letters.length} dead letters of a job whose worker died twice, replayed), ${writtenTwice} events recorded twice; ${expected.size} addresses suppressed ${JSON.stringify(reasons)}; ` +
        `mismatches: ${problems.length}; suppression notices repeated for ${repeatedNotices} addresses`,
    );

    expect(problems).toEqual([]);
    expect(Object.keys(reasons).sort()).toEqual(['complaint', 'hard-bounce', 'soft-bounces']);
    expect(kills).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
