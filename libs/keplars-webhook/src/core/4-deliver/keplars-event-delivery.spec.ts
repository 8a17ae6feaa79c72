import { Redis } from 'ioredis';
import type { KeplarsEvent } from '../0-event/keplars-event.js';
import { keplarsEventKey } from './event-key.js';
import { MemoryIdempotencyStore } from '../../adapters/memory-store/memory-idempotency.store.js';
import { RedisIdempotencyStore } from '../../adapters/redis-store/redis-idempotency.store.js';
import { KeplarsEventDelivery, KeplarsHandlerTimeoutError } from './keplars-event-delivery.js';
import { KeplarsHandlerRegistry, patternMatches } from './keplars-handler-registry.js';
import type { DeliveryOutcome } from '../0-event/delivery-outcome.js';

const settings = { windowMs: 60_000, derivedIdWindowMs: 60_000, lockMs: 5_000 };
const event = (type: string, id = 'evt_1'): KeplarsEvent =>
  ({ type, id, timestamp: new Date(), emailId: 'e1', recipient: undefined, subject: undefined, workspaceId: undefined, metadata: {}, body: {} }) as KeplarsEvent;

/** A registry of handlers that count their runs and fail as told. */
function registryWith(handlers: Record<string, { patterns: string[]; run?: (attempt: number) => unknown }>) {
  const registry = new KeplarsHandlerRegistry();
  const runs: Record<string, number> = {};
  for (const [name, { patterns, run }] of Object.entries(handlers)) {
    runs[name] = 0;
    registry.add({
      name,
      patterns,
      invoke: () => {
        runs[name]! += 1;
        return run?.(runs[name]!);
      },
    });
  }
  return { registry, runs };
}

describe('pattern matching', () => {
  it.each([
    ['*', 'email.opened', true],
    ['*', 'webhook.test', true],
    ['email.*', 'email.reopened', true],
    ['email.*', 'webhook.test', false],
    ['email.opened', 'email.opened', true],
    ['email.opened', 'email.opened.v2', false],
  ])('%s on %s: %s', (pattern, type, matches) => {
    expect(patternMatches(pattern, type)).toBe(matches);
  });
});

describe('KeplarsEventDelivery', () => {
  it('runs every matching handler once, then answers duplicates without running any', async () => {
    const { registry, runs } = registryWith({ 'A.opened': { patterns: ['email.opened'] }, 'B.all': { patterns: ['*'] }, 'C.clicked': { patterns: ['email.clicked'] } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    expect(await delivery.deliver(event('email.opened'))).toMatchObject({ kind: 'handled', handlers: 2 });
    expect(await delivery.deliver(event('email.opened'))).toEqual({ kind: 'duplicate' });
    expect(runs).toEqual({ 'A.opened': 1, 'B.all': 1, 'C.clicked': 0 });
  });

  it('answers at once, without a promise, when the store answers at once and every handler returns at once (issue 26)', () => {
    const { registry } = registryWith({ 'A.opened': { patterns: ['email.opened'] }, 'B.slow': { patterns: ['email.slow'], run: () => Promise.resolve() } });
    const memory = new MemoryIdempotencyStore({ maxEvents: 10 });
    const delivery = new KeplarsEventDelivery(registry, memory, settings);
    expect(delivery.deliver(event('email.opened'))).toMatchObject({ kind: 'handled', handlers: 1 });
    expect(delivery.deliver(event('email.opened'))).toEqual({ kind: 'duplicate' });
    expect(new KeplarsEventDelivery(registry, undefined, settings).deliver(event('email.opened', 'evt_2'))).toMatchObject({ kind: 'handled' });
    // A handler that returns a promise, or a store that answers only with promises: a promise.
    expect(delivery.deliver(event('email.slow', 'evt_4'))).toBeInstanceOf(Promise);
    const asyncOnly = { claim: memory.claim.bind(memory), settle: memory.settle.bind(memory) };
    expect(new KeplarsEventDelivery(registry, asyncOnly, settings).deliver(event('email.opened', 'evt_3'))).toBeInstanceOf(Promise);
  });

  it('records through settle, with its retries, when settleNow throws', async () => {
    const { registry, runs } = registryWith({ 'A.opened': { patterns: ['email.opened'] } });
    const memory = new MemoryIdempotencyStore({ maxEvents: 10 });
    let settles = 0;
    const store = {
      claim: memory.claim.bind(memory),
      claimNow: memory.claimNow.bind(memory),
      settle: async (...args: Parameters<MemoryIdempotencyStore['settle']>) => {
        if (++settles === 1) throw new Error('dropped connection');
        return memory.settle(...args);
      },
      settleNow: () => {
        throw new Error('cannot record now');
      },
    };
    const delivery = new KeplarsEventDelivery(registry, store, settings);
    expect(await delivery.deliver(event('email.opened'))).toEqual({ kind: 'handled', handlers: 1, ran: registry.all() });
    expect(settles).toBe(2);
    expect(await delivery.deliver(event('email.opened'))).toEqual({ kind: 'duplicate' });
    expect(runs['A.opened']).toBe(1);
  });

  it('answers store-unavailable when claimNow throws', () => {
    const { registry, runs } = registryWith({ 'A.opened': { patterns: ['email.opened'] } });
    const broken = { claim: () => Promise.reject(new Error('down')), settle: () => Promise.resolve(), claimNow: () => { throw new Error('down'); }, settleNow: () => undefined };
    expect(new KeplarsEventDelivery(registry, broken, settings).deliver(event('email.opened'))).toMatchObject({ kind: 'store-unavailable' });
    expect(runs['A.opened']).toBe(0);
  });

  it('says no-handler when no handler takes the type (issue 22), with a store or without, and a redelivery is a duplicate', async () => {
    const { registry } = registryWith({ 'A.opened': { patterns: ['email.opened'] } });
    const withStore = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    expect(await withStore.deliver(event('email.clicked'))).toEqual({ kind: 'no-handler' });
    expect(await withStore.deliver(event('email.clicked'))).toEqual({ kind: 'duplicate' });
    expect(await new KeplarsEventDelivery(registry, undefined, settings).deliver(event('email.clicked'))).toEqual({ kind: 'no-handler' });
  });

  it('says handled, not no-handler, when every handler had already succeeded on an earlier delivery', async () => {
    const { registry, runs } = registryWith({ 'A.opened': { patterns: ['email.opened'] } });
    const store = new MemoryIdempotencyStore({ maxEvents: 10 });
    const claim = await store.claim(keplarsEventKey(event('email.opened'), 'evt_1'), 5_000);
    if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
    await store.settle(keplarsEventKey(event('email.opened'), 'evt_1'), claim.token, ['A.opened'], false, 60_000); // A succeeded, the delivery did not complete
    expect(await new KeplarsEventDelivery(registry, store, settings).deliver(event('email.opened'))).toMatchObject({ kind: 'handled', handlers: 0 });
    expect(runs).toEqual({ 'A.opened': 0 });
  });

  it('on retries, runs only the handlers that have not yet succeeded', async () => {
    const { registry, runs } = registryWith({
      'Flaky.onSent': { patterns: ['email.sent'], run: (attempt) => { if (attempt <= 2) throw new Error(`attempt ${attempt} fails`); } },
      'Steady.onSent': { patterns: ['email.sent'] },
    });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    const outcomes: DeliveryOutcome['kind'][] = [];
    for (let i = 0; i < 4; i++) outcomes.push((await delivery.deliver(event('email.sent'))).kind);
    expect(outcomes).toEqual(['handler-failed', 'handler-failed', 'handled', 'duplicate']);
    expect(runs).toEqual({ 'Flaky.onSent': 3, 'Steady.onSent': 1 });
  });

  it('lets one failing handler neither stop the others nor hide its error', async () => {
    const failure = new Error('database down');
    const { registry, runs } = registryWith({
      'Broken.sync': { patterns: ['*'], run: () => { throw failure; } },
      'Broken.async': { patterns: ['*'], run: async () => Promise.reject(failure) },
      'Fine.handler': { patterns: ['*'] },
    });
    const outcome = await new KeplarsEventDelivery(registry, undefined, settings).deliver(event('email.sent'));
    expect(outcome).toEqual({ kind: 'handler-failed', failures: [{ handler: 'Broken.sync', error: failure }, { handler: 'Broken.async', error: failure }] });
    expect(runs['Fine.handler']).toBe(1);
  });

  it('answers in-progress to a concurrent duplicate, which runs nothing', async () => {
    let release!: () => void;
    const { registry, runs } = registryWith({ 'Slow.handler': { patterns: ['*'], run: () => new Promise<void>((resolve) => (release = resolve)) } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    const first = delivery.deliver(event('email.sent'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await delivery.deliver(event('email.sent'))).toEqual({ kind: 'in-progress' });
    release();
    expect((await first).kind).toBe('handled');
    expect(runs['Slow.handler']).toBe(1);
  });

  it('counts a handler that outlives the lock as failed, so the retry runs it', async () => {
    const { registry } = registryWith({ 'Stuck.handler': { patterns: ['*'], run: () => new Promise(() => undefined) }, 'Quick.handler': { patterns: ['*'] } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), { ...settings, lockMs: 50 });
    const outcome = await delivery.deliver(event('email.sent'));
    expect(outcome.kind).toBe('handler-failed');
    expect(outcome.kind === 'handler-failed' && outcome.failures[0]!.error).toBeInstanceOf(KeplarsHandlerTimeoutError);
  });

  it('runs no handler when the store cannot be reached', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    unreachable.on('error', () => undefined);
    const { registry, runs } = registryWith({ 'A.handler': { patterns: ['*'] } });
    const delivery = new KeplarsEventDelivery(registry, new RedisIdempotencyStore(unreachable), settings);
    expect((await delivery.deliver(event('email.sent'))).kind).toBe('store-unavailable');
    expect(runs['A.handler']).toBe(0);
    unreachable.disconnect();
  });
});

describe('a handler that runs after another (after)', () => {
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('starts only once the one it waits for has succeeded in the same delivery', async () => {
    const order: string[] = [];
    const registry = new KeplarsHandlerRegistry();
    // Added first, so it is called first: it must still wait.
    registry.add({ name: 'Reaction.react', patterns: ['*'], after: 'Ledger.record', invoke: () => void order.push('reaction') });
    registry.add({ name: 'Ledger.record', patterns: ['*'], invoke: async () => { await later(20); order.push('ledger'); } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    expect(await delivery.deliver(event('email.bounced'))).toMatchObject({ kind: 'handled' });
    expect(order).toEqual(['ledger', 'reaction']);
  });

  it('fails with the one it waits for, and both run on the next delivery', async () => {
    let ledgerFails = true;
    const runs = { ledger: 0, reaction: 0 };
    const registry = new KeplarsHandlerRegistry();
    registry.add({ name: 'Ledger.record', patterns: ['*'], invoke: () => { runs.ledger++; if (ledgerFails) throw new Error('database down'); } });
    registry.add({ name: 'Reaction.react', patterns: ['*'], after: 'Ledger.record', invoke: () => { runs.reaction++; } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    const failed = await delivery.deliver(event('email.bounced'));
    expect(failed).toMatchObject({ kind: 'handler-failed' });
    expect((failed as unknown as { failures: { handler: string; error: Error }[] }).failures.map((failure) => [failure.handler, failure.error.message])).toEqual([
      ['Ledger.record', 'database down'],
      ['Reaction.react', 'Reaction.react waits for Ledger.record, which failed on this delivery; both run again on the next one.'],
    ]);
    expect(runs).toEqual({ ledger: 1, reaction: 0 });
    ledgerFails = false;
    expect(await delivery.deliver(event('email.bounced'))).toMatchObject({ kind: 'handled' });
    expect(runs).toEqual({ ledger: 2, reaction: 1 });
  });

  it('runs at once when the one it waits for succeeded on an earlier delivery', async () => {
    let reactionFails = true;
    const runs = { ledger: 0, reaction: 0 };
    const registry = new KeplarsHandlerRegistry();
    registry.add({ name: 'Ledger.record', patterns: ['*'], invoke: () => void runs.ledger++ });
    registry.add({ name: 'Reaction.react', patterns: ['*'], after: 'Ledger.record', invoke: () => { runs.reaction++; if (reactionFails) throw new Error('CRM down'); } });
    const delivery = new KeplarsEventDelivery(registry, new MemoryIdempotencyStore({ maxEvents: 10 }), settings);
    expect(await delivery.deliver(event('email.bounced'))).toMatchObject({ kind: 'handler-failed' });
    reactionFails = false;
    expect(await delivery.deliver(event('email.bounced'))).toMatchObject({ kind: 'handled' });
    expect(runs).toEqual({ ledger: 1, reaction: 2 });
  });
});
