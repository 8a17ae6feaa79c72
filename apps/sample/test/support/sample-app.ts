import type { INestApplication, Provider } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CapturedLogs } from '../../../../test/support/captured-logs.js';
import { AppModule } from '../../src/app.module.js';

export const TEST_SECRET = 'whsec_sample_e2e_3b9d2f';

/**
 * Boots the sample's real AppModule as main.ts does (`rawBody: true`), configured through the
 * environment like the app itself: an in-memory database, {@link TEST_SECRET} and inline mode
 * (REDIS_URL empty, which also wins over a REDIS_URL in a developer's apps/sample/.env) unless `env`
 * says otherwise (`undefined` unsets a variable). Jest gives each test file its own `process.env`.
 * On Express, as main.ts runs it, unless `adapter` says Fastify.
 */
export async function startSampleApp(
  env: Record<string, string | undefined> = {},
  logs = new CapturedLogs(),
  providers: Provider[] = [],
  adapter: 'express' | 'fastify' = 'express',
): Promise<INestApplication> {
  const settings = { DATABASE_PATH: ':memory:', KEPLARS_WEBHOOK_SECRET: TEST_SECRET, NODE_ENV: 'test', REDIS_URL: '', ...env };
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  // `providers`: what a test adds beside the sample, e.g. a handler of its own.
  const moduleRef = await Test.createTestingModule({ imports: [AppModule], providers }).setLogger(logs).compile();
  const options = { rawBody: true, logger: logs };
  const app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), options) : moduleRef.createNestApplication(options);
  try {
    await app.init();
  } catch (error) {
    await app.close(); // what was opened before the failure (Redis, the queue's worker), so Jest can exit
    throw error;
  }
  return app;
}

/** `GET path` on the app: status and JSON body. */
export async function get(app: INestApplication, path: string): Promise<{ status: number; body: any }> {
  const response = await request(app.getHttpServer()).get(path);
  return { status: response.status, body: response.body };
}
