// One app of the exactly-once storm (test/robustness/exactly-once-effects.robustness-spec.ts), in a
// process of its own, as an app's main.ts would start it: a receiver (HTTP, role 'receive') or a
// worker (role 'process'), in queue mode, with the Postgres store on the app's own pg pool. Its one
// handler writes an effect row for each event it handles, into the app's table (no unique key, so a
// repeat shows), then lingers a moment, so that a SIGKILL often lands between the write and the mark:
// - EFFECTS_TRANSACTIONAL=1: a transactional handler, writing through the transaction of its mark;
// - otherwise: a plain handler, writing on the pool (committed at once), its mark written after.
// With EFFECTS_LEDGER=1 the import also keeps the email ledger (`ledger: true`, its tables in the same
// schema), and an @OnAddressSuppressed() reaction writes a notice row into the app's table `notices`
// on the pool (a plain handler: a repeat shows); EFFECTS_LEDGER_LINGER_MS makes the ledger's writes
// linger after they commit, so that a SIGKILL often lands before the delivery records them,
// and prints `ledger-write <event id>` for each event the ledger recorded;
// EFFECTS_HANDLER=0 leaves the effect handler out (the ledger storm,
// test/robustness/ledger-counters.robustness-spec.ts).
// It runs the library as built by `tsc` (Nest's DI needs the decorator metadata only tsc emits).
// Prints one line `{"ready":true,"port":…}` when up.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';

const settings = {
  library: process.env.KEPLARS_LIBRARY,
  role: process.env.KEPLARS_ROLE ?? 'process',
  queue: process.env.EFFECTS_QUEUE ?? 'postgres', // or 'redis'
  databaseUrl: process.env.EFFECTS_DATABASE_URL,
  redisUrl: process.env.EFFECTS_REDIS_URL,
  schema: process.env.EFFECTS_SCHEMA,
  secret: process.env.KEPLARS_SECRET,
  transactional: process.env.EFFECTS_TRANSACTIONAL === '1',
  lingerMs: Number(process.env.EFFECTS_LINGER_MS ?? 100),
  concurrency: Number(process.env.EFFECTS_CONCURRENCY ?? 4),
  effectHandler: process.env.EFFECTS_HANDLER !== '0',
  ledger: process.env.EFFECTS_LEDGER === '1',
  ledgerLingerMs: Number(process.env.EFFECTS_LEDGER_LINGER_MS ?? 0),
};

const { KeplarsWebhookModule, OnKeplarsEvent, OnAddressSuppressed } = await import(settings.library);
const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 20 });
pool.on('error', () => undefined);
const lingerFor = (ms) => new Promise((resolve) => setTimeout(resolve, ms * (0.5 + Math.random())));
const linger = () => lingerFor(settings.lingerMs);
if (settings.ledger) {
  // The ledger writes on the pool: a turn's events in one statement (keplars_ledger_record_batch), then
  // each event that may suppress through one function call (keplars_ledger_signal), each its own commit.
  // Each write it made is told to the test (a pipe's write is synchronous on Linux); with
  // EFFECTS_LEDGER_LINGER_MS it then waits a moment before answering, so a SIGKILL often lands between
  // the ledger's commit and the delivery's record of it (the retry must find the ledger done).
  const query = pool.query;
  pool.query = function (config, ...rest) {
    const result = query.call(this, config, ...rest);
    const name = config?.name;
    if ((name !== 'keplars_ledger_record_batch' && name !== 'keplars_ledger_signal') || rest.length > 0 || typeof result?.then !== 'function') return result;
    return result.then(async (answer) => {
      if (name === 'keplars_ledger_record_batch') for (const row of answer.rows) process.stdout.write(`ledger-write ${row.event_id}\n`);
      if (settings.ledgerLingerMs > 0) await lingerFor(settings.ledgerLingerMs);
      return answer;
    });
  };
}
const insert = `INSERT INTO ${settings.schema}.effects (event_id, pid) VALUES ($1, $2)`;

class EffectHandlers {
  async recordInTransaction(event, client) {
    await client.query(insert, [event.id, process.pid]);
    await linger(); // killed here: the transaction never commits, its row and its mark are gone together
  }

  async recordOnThePool(event) {
    await pool.query(insert, [event.id, process.pid]);
    await linger(); // killed here: the row is committed, the mark is not: the next worker writes it again
  }
}
const method = settings.transactional ? 'recordInTransaction' : 'recordOnThePool';
OnKeplarsEvent('*', settings.transactional ? { transaction: 'pg' } : undefined)(EffectHandlers.prototype, method, Object.getOwnPropertyDescriptor(EffectHandlers.prototype, method));
Injectable()(EffectHandlers);

class SuppressionNotices {
  async notice(notice) {
    await pool.query(`INSERT INTO ${settings.schema}.notices (address, reason, event_id, pid) VALUES ($1, $2, $3, $4)`, [notice.address, notice.reason, notice.eventId, process.pid]);
  }
}
if (settings.ledger) {
  OnAddressSuppressed()(SuppressionNotices.prototype, 'notice', Object.getOwnPropertyDescriptor(SuppressionNotices.prototype, 'notice'));
  Injectable()(SuppressionNotices);
}

const queue = {
  ...(settings.queue === 'postgres' ? { postgres: settings.databaseUrl, schema: `${settings.schema}_queue` } : { redis: settings.redisUrl, prefix: settings.schema }),
  role: settings.role,
  attempts: 20,
  backoff: { delaySeconds: 0.05, jitter: 0.5 },
  stalledSeconds: 1,
  concurrency: settings.concurrency,
};

class AppModule {}
Module({
  imports: [
    KeplarsWebhookModule.forRoot({
      secret: settings.secret,
      deduplication: { lockSeconds: 2, store: { postgres: pool, schema: settings.schema } },
      queue,
      ...(settings.ledger ? { ledger: true } : {}),
    }),
  ],
  providers: [...(settings.effectHandler ? [EffectHandlers] : []), ...(settings.ledger ? [SuppressionNotices] : [])],
})(AppModule);

// EFFECTS_LOG_LEVELS (comma-separated Nest levels) lets a test read more than the errors.
const logger = (process.env.EFFECTS_LOG_LEVELS ?? 'error').split(',');
let port;
let app;
if (settings.role === 'process') {
  app = await NestFactory.createApplicationContext(AppModule, { logger });
} else {
  app = await NestFactory.create(AppModule, { rawBody: true, logger });
  await app.listen(0, '127.0.0.1');
  port = app.getHttpServer().address().port;
}
app.enableShutdownHooks();
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
