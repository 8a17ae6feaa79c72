// One app of a queue-mode deployment, in a process of its own: a receiver (HTTP, role 'receive') or a
// worker (no HTTP at all, role 'process'), as an app's main.ts would start it. It runs the library as
// built by `tsc` (dist), since Nest's DI needs the decorator metadata only tsc emits.
//
// Settings come from the environment (see `settings` below). Its handlers record in Redis, under
// LEDGER, what they did: HINCRBY <LEDGER>:started:<handler> <eventId> and …:succeeded:<handler>,
// so the test can count runs across processes. Prints one line `{"ready":true,"port":…}` when up.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';

const settings = {
  library: process.env.KEPLARS_LIBRARY, // the built index.js
  role: process.env.KEPLARS_ROLE ?? 'process',
  adapter: process.env.KEPLARS_ADAPTER ?? 'express',
  redis: process.env.KEPLARS_REDIS_URL,
  prefix: process.env.KEPLARS_PREFIX,
  secret: process.env.KEPLARS_SECRET,
  ledger: process.env.KEPLARS_LEDGER,
  attempts: Number(process.env.KEPLARS_ATTEMPTS ?? 3),
  stalledSeconds: Number(process.env.KEPLARS_STALLED_SECONDS ?? 1),
  lockSeconds: Number(process.env.KEPLARS_LOCK_SECONDS ?? 2),
  // `slowHandler` waits here forever (until the process is killed) on events whose metadata says `block`.
  blocks: process.env.KEPLARS_BLOCK === '1',
};

const { KeplarsWebhookModule, OnKeplarsEvent } = await import(settings.library);
const ledger = new Redis(settings.redis, { maxRetriesPerRequest: null });
const count = (what, handler, eventId) => ledger.hincrby(`${settings.ledger}:${what}:${handler}`, eventId, 1);

/**
 * Three handlers: one quick, one slow (it can be told to hang), one that calls a flaky downstream:
 * it fails the first `metadata.fail` attempts of an event (counted across processes), or every
 * attempt when `metadata.fail` is 'always'.
 */
class StormHandlers {
  async quickHandler(event) {
    await count('started', 'quick', event.id);
    await count('succeeded', 'quick', event.id);
  }

  async slowHandler(event) {
    await count('started', 'slow', event.id);
    if (settings.blocks && event.metadata.block) await new Promise(() => undefined); // until SIGKILL
    await new Promise((resolve) => setTimeout(resolve, 2));
    await count('succeeded', 'slow', event.id);
  }

  async flakyHandler(event) {
    const attempt = await count('started', 'flaky', event.id);
    const fail = event.metadata.fail;
    if (fail === 'always' || attempt <= Number(fail ?? 0)) throw new Error(`downstream refused attempt ${attempt}`);
    await count('succeeded', 'flaky', event.id);
  }
}
for (const method of ['quickHandler', 'slowHandler', 'flakyHandler']) {
  OnKeplarsEvent('*')(StormHandlers.prototype, method, Object.getOwnPropertyDescriptor(StormHandlers.prototype, method));
}
Injectable()(StormHandlers);

class AppModule {}
Module({
  imports: [
    KeplarsWebhookModule.forRoot({
      secret: settings.secret,
      deduplication: { lockSeconds: settings.lockSeconds, store: { redis: settings.redis, keyPrefix: `${settings.prefix}:dedup:` } },
      queue: {
        redis: settings.redis,
        role: settings.role,
        prefix: settings.prefix,
        attempts: settings.attempts,
        backoff: { delaySeconds: 0.05, jitter: 0.5 },
        stalledSeconds: settings.stalledSeconds,
        concurrency: 20,
      },
    }),
  ],
  providers: [StormHandlers],
})(AppModule);

const logger = ['error', 'warn'];
let port;
let app;
if (settings.role === 'process') {
  app = await NestFactory.createApplicationContext(AppModule, { logger });
} else {
  app =
    settings.adapter === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger })
      : await NestFactory.create(AppModule, { rawBody: true, logger });
  await app.listen(0, '127.0.0.1');
  port = app.getHttpServer().address().port;
}
app.enableShutdownHooks();
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
