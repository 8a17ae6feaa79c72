import { MemoryEmailLedgerStore } from '../../adapters/memory-store/memory-email-ledger.store.js';
import type { KeplarsEvent } from '../0-event/keplars-event.js';
import { EmailLedger } from './email-ledger.js';
import { statusOfType, rankOfStatus, isFinalStatus } from './email-status.js';
import { ledgerEntryOf } from './ledger-entry.js';

const DAY = 86_400_000;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const event = (type: string, at: number, emailId = 'em_1') =>
  ({ type, id: `evt_${type}_${at}`, timestamp: new Date(at), emailId, recipient: 'ann@example.com', subject: undefined, workspaceId: undefined, metadata: {}, body: {}, endpoint: 'default', tenant: undefined }) as KeplarsEvent;

describe('the status order', () => {
  it('ranks progress below every final status, and knows no status for a type outside the order', () => {
    expect(rankOfStatus(statusOfType('email.clicked'))).toBeLessThan(rankOfStatus(statusOfType('email.cancelled')));
    expect(rankOfStatus(statusOfType('email.bounced'))).toBeLessThan(rankOfStatus(statusOfType('email.complained')));
    expect(statusOfType('email.rendered')).toBeUndefined();
    expect(statusOfType('webhook.test')).toBeUndefined();
    expect([isFinalStatus('clicked'), isFinalStatus('cancelled'), isFinalStatus(undefined)]).toEqual([false, true, false]);
  });
});

describe('EmailLedger', () => {
  it('prunes old emails on its own timer, with no cron of the app\'s', async () => {
    const store = new MemoryEmailLedgerStore();
    const ledger = new EmailLedger('default', store, { policy: { softBounces: undefined, expiresAfterMs: {}, shared: false }, retentionMs: 30 * DAY, pruneIntervalMs: 20 }, quiet);
    await ledger.open();
    try {
      await ledger.record(event('email.sent', Date.now() - 31 * DAY, 'em_old'));
      await ledger.record(event('email.sent', Date.now(), 'em_new'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await ledger.emails(undefined, 10, undefined)).items.map((email) => email.emailId)).toEqual(['em_new']);
    } finally {
      ledger.close();
    }
  });

  it('refuses a page size outside 1 to 500 with the range, and caps a large one', async () => {
    const ledger = new EmailLedger('default', new MemoryEmailLedgerStore(), { policy: { softBounces: undefined, expiresAfterMs: {}, shared: false }, retentionMs: DAY, pruneIntervalMs: 0 }, quiet);
    await ledger.open();
    await expect(ledger.emails(undefined, 0, undefined)).rejects.toThrow('limit must be a whole number from 1 to 500, not 0.');
    await expect(ledger.emails(undefined, 10_000, undefined)).resolves.toEqual({ items: [], next: undefined });
  });

  it('says it is not open yet when used before the app started', async () => {
    const ledger = new EmailLedger('default', new MemoryEmailLedgerStore(), { policy: { softBounces: undefined, expiresAfterMs: {}, shared: false }, retentionMs: DAY, pruneIntervalMs: 0 }, quiet);
    await expect(ledger.check(['ann@example.com'], { endpoint: 'default', tenant: '' })).rejects.toThrow(/not open yet: it opens with the app/);
  });
});

describe('manual changes in one millisecond', () => {
  it('keep their order: the first suppression\'s note is the one the list shows', async () => {
    const frozen = Date.now();
    const ledger = new EmailLedger('default', new MemoryEmailLedgerStore({ now: () => frozen }), { policy: { softBounces: undefined, expiresAfterMs: {}, shared: false }, retentionMs: DAY, pruneIntervalMs: 0 }, quiet);
    await ledger.open();
    const scope = { endpoint: 'default', tenant: '' };
    for (let i = 0; i < 5; i++) await ledger.suppress('ann@example.com', { actor: 'support', note: `call ${i}` }, scope);
    expect((await ledger.check(['ann@example.com'], scope))[0]!.suppressed).toMatchObject({ reason: 'manual', note: 'call 0' });
  });
});

describe('what an event puts on the ledger', () => {
  it('keeps only string fields, without NUL characters (Postgres refuses them): a list where a recipient belongs is left out', () => {
    const entry = ledgerEntryOf({ ...event('email.bounced', Date.now()), recipient: ['b@example.com'], subject: 'Hi\u0000there', bounceReason: { code: 550 }, bounceType: 'hard' } as unknown as KeplarsEvent);
    expect(entry).toMatchObject({ recipient: undefined, subject: 'Hithere', details: { bounceType: 'hard' } });
    expect(entry!.details).not.toHaveProperty('bounceReason');
  });
});
