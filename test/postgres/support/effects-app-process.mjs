// One app of the exactly-once storm (test/robustness/exactly-once-effects.robustness-spec.ts), in a
// process of its own, as an app's main.ts would start it: a receiver (HTTP, role 'receive') or a
// worker (role 'process'), in queue mode, with the Postgres store on the app's own pg pool. Its one
// handler writes an effect row for each event it handles, into the app's table (no unique key, so a
// repeat shows), then lingers a moment, so that a SIGKILL often lands between the write and the mark:
// - EFFECTS_TRANSACTIONAL=1: a transactional handler, writing through the transaction of its mark;
// - otherwise: a plain handler, writing on the pool (committed at once), its mark written after.
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
};

const { KeplarsWebhookModule, OnKeplarsEvent } = await import(settings.library);
const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 20 });
pool.on('error', () => undefined);
const linger = () => new Promise((resolve) => setTimeout(resolve, settings.lingerMs * (0.5 + Math.random())));
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
    }),
  ],
  providers: [EffectHandlers],
})(AppModule);

const logger = ['error'];
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
