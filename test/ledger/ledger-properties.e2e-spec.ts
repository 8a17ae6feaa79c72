import type { INestApplication } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { KEPLARS_EMAIL_STATUSES, KeplarsEmailLedger, KeplarsWebhookModule, type KeplarsPGlite, type KeplarsPgPool, type KeplarsWebhookOptions } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
import { connectPostgres, dropSchemas, uniqueSchema } from '../support/postgres.js';
import { ADAPTERS, createWebhookApp, type AdapterName } from '../support/webhook-app.js';

// SPEC §8's promise, as a property: for any multiset of one email's events (any types, known or not,
// with duplicates, in any order), delivered through the module over HTTP, the ledger ends in the state
// that the sorted, de-duplicated sequence gives, and the suppression list agrees. The app has two
// endpoints on one store: the shuffled copies go to one, the sorted distinct events to the other, and
// their ledgers are compared (and checked against a plain model of the rules). Every store, both adapters.

const SECRET = 'whsec_ledger_properties';
const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 30);
const SEED = process.env.LEDGER_PROPERTY_SEED === undefined ? undefined : Number(process.env.LEDGER_PROPERTY_SEED);
const TYPES = [...KEPLARS_EMAIL_STATUSES.map((status) => `email.${status}`), 'email.rendered'];
const T0 = Date.parse('2026-12-01T10:00:00Z');

interface Spec {
  readonly type: string;
  readonly second: number;
  readonly bounceType: 'hard' | 'soft' | undefined;
  readonly withRecipient: boolean;
}

const specArbitrary: fc.Arbitrary<Spec> = fc.record({
  // Bounces weigh more, so soft-bounce thresholds and final statuses come up often.
  type: fc.oneof({ arbitrary: fc.constantFrom(...TYPES), weight: 3 }, { arbitrary: fc.constant('email.bounced'), weight: 1 }),
  second: fc.integer({ min: 0, max: 120 }),
  bounceType: fc.constantFrom('hard' as const, 'soft' as const, 'soft' as const, undefined),
  withRecipient: fc.boolean(),
});

/** Distinct events, how many extra copies of each, and the order all copies arrive in. */
const scenario = fc
  .array(specArbitrary, { minLength: 1, maxLength: 9 })
  .chain((specs) =>
    fc.record({
      specs: fc.constant(specs),
      copies: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: specs.length, maxLength: specs.length }),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: specs.length * 3, maxLength: specs.length * 3 }),
    }),
  );

type Store = 'memory' | 'postgres' | 'pglite';
const STORES: readonly Store[] = ['memory', 'postgres', 'pglite'];

describe.each(STORES.flatMap((store) => ADAPTERS.map((adapter) => [store, adapter] as const)))('the ledger on the %s store, on %s: state is a function of the set of events', (store: Store, adapter: AdapterName) => {
  const schema = uniqueSchema(`ledger_prop_${store}`);
  let pool: Pool | undefined;
  let pglite: PGlite | undefined;
  let app: INestApplication;
  let ledger: KeplarsEmailLedger;

  beforeAll(async () => {
    let dedup: KeplarsWebhookOptions['deduplication'] = { store: 'memory' };
    if (store === 'postgres') {
      pool = connectPostgres();
      dedup = { store: { postgres: pool as unknown as KeplarsPgPool, schema } };
    } else if (store === 'pglite') {
      pglite = new PGlite();
      dedup = { store: { pglite: pglite as unknown as KeplarsPGlite, schema } };
    }
    const endpoint = (name: string) => KeplarsWebhookModule.forRoot({ name, path: `/webhooks/${name}`, secret: SECRET, deduplication: dedup, ledger: true });
    app = await createWebhookApp({ adapter, imports: [endpoint('shuffled'), endpoint('sorted')] });
    ledger = app.get(KeplarsEmailLedger);
  }, 30_000); // PGlite's start takes seconds on a loaded machine
  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await pglite?.close();
    if (store === 'postgres') await dropSchemas(schema);
  });

  let run = 0;
  it('gives the same email, engagement, timeline and suppression as the sorted, de-duplicated sequence', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ specs, copies, order }) => {
        run++;
        const emailId = `em_${adapter}_${run}`;
        const recipient = `person.${adapter}.${run}@example.com`;
        const payloads = specs.map((spec, index) =>
          buildKeplarsPayload(spec.type, {
            id: `evt_${run}_${index}`,
            emailId,
            timestamp: new Date(T0 + spec.second * 1000),
            subject: 'Property',
            // The event-data shape carries no id: the module derives one from the content, so two
            // events of one type at one second would be one event. This keeps them distinct.
            metadata: { spec: index },
            ...(spec.bounceType ? { bounceType: spec.bounceType } : {}),
            // A bounce Keplars did not call hard or soft: the envelope shape always writes bounce_type, so say nothing.
            ...(spec.type === 'email.bounced' && spec.bounceType === undefined ? { shape: 'event-data' as const } : {}),
            ...(spec.withRecipient ? { recipient } : { extra: { to: undefined, recipient: undefined } }),
          }),
        );
        // Every event at least once, some up to three times, in the generated order.
        const arriving = payloads.flatMap((payload, index) => Array.from({ length: 1 + copies[index]! }, () => payload));
        const shuffled = arriving.map((payload, index) => ({ payload, key: order[index]! })).sort((a, b) => a.key - b.key);
        for (const { payload } of shuffled) expect((await postKeplarsEvent(app, payload, { secret: SECRET, path: '/webhooks/shuffled' })).status).toBe(200);
        const sorted = specs.map((spec, index) => ({ spec, index })).sort((a, b) => a.spec.second - b.spec.second || a.index - b.index);
        for (const { index } of sorted) expect((await postKeplarsEvent(app, payloads[index]!, { secret: SECRET, path: '/webhooks/sorted' })).status).toBe(200);

        const fromShuffled = await ledger.email(emailId, { endpoint: 'shuffled' });
        const fromSorted = await ledger.email(emailId, { endpoint: 'sorted' });
        expect({ ...fromShuffled, endpoint: 'sorted' }).toEqual(fromSorted);
        expect(fromShuffled).toMatchObject(model(specs));
        const [checkShuffled] = await ledger.checkMany([recipient], { endpoint: 'shuffled' });
        const [checkSorted] = await ledger.checkMany([recipient], { endpoint: 'sorted' });
        expect(checkShuffled).toEqual(checkSorted);
        expect(checkShuffled!.sendable).toBe(!suppresses(specs));
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  }, 120_000); // RUNS scenarios of up to 36 requests each: bounded by the count, not by a clock
});

/** The rules, written plainly: what the ledger must say of these distinct events. */
function model(specs: readonly Spec[]) {
  const ranks = specs.map((spec) => KEPLARS_EMAIL_STATUSES.indexOf(spec.type.slice('email.'.length) as never));
  const top = Math.max(...ranks);
  const engagement = (type: string) => {
    const seconds = specs.filter((spec) => spec.type === type).map((spec) => spec.second);
    const at = (second: number) => new Date(T0 + second * 1000);
    return seconds.length === 0 ? { count: 0, first: undefined, last: undefined } : { count: seconds.length, first: at(Math.min(...seconds)), last: at(Math.max(...seconds)) };
  };
  return {
    status: top < 0 ? undefined : KEPLARS_EMAIL_STATUSES[top],
    events: specs.length,
    opens: engagement('email.opened'),
    clicks: engagement('email.clicked'),
    firstEventAt: new Date(T0 + Math.min(...specs.map((spec) => spec.second)) * 1000),
    lastEventAt: new Date(T0 + Math.max(...specs.map((spec) => spec.second)) * 1000),
    recipient: specs.some((spec) => spec.withRecipient) ? expect.any(String) : undefined,
  };
}

/** A hard bounce or a complaint that names the recipient, or 3 soft bounces within 7 days (all are within minutes here). */
function suppresses(specs: readonly Spec[]): boolean {
  const named = specs.filter((spec) => spec.withRecipient);
  if (named.some((spec) => spec.type === 'email.complained' || (spec.type === 'email.bounced' && spec.bounceType === 'hard'))) return true;
  return named.filter((spec) => spec.type === 'email.bounced' && spec.bounceType === 'soft').length >= 3;
}
