import { Module, type DynamicModule, type INestApplication, type LoggerService, type ModuleMetadata, type Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

const SILENT: LoggerService = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: readonly AdapterName[] = ['express', 'fastify'];

export interface WebhookAppOptions extends Pick<ModuleMetadata, 'imports' | 'providers' | 'controllers'> {
  adapter: AdapterName;
  /** @default true */
  rawBody?: boolean;
  /** Receives the app's log lines (default: none are printed). */
  logger?: LoggerService;
  /** Runs before `init()`: global prefix, pipes, guards… */
  configure?: (app: INestApplication) => void;
}

/**
 * Boots a real Nest application (its own HTTP server on loopback) around the given imports, as an
 * app's main.ts would, on Express or Fastify.
 */
export async function createWebhookApp(options: WebhookAppOptions): Promise<INestApplication> {
  @Module({ imports: options.imports as (Type | DynamicModule)[], providers: options.providers, controllers: options.controllers })
  class TestAppModule {}

  const logger = options.logger ?? SILENT;
  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).setLogger(logger).compile();
  const appOptions = { rawBody: options.rawBody ?? true, logger };
  const app =
    options.adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), appOptions)
      : moduleRef.createNestApplication(appOptions);
  options.configure?.(app);
  await app.init();
  return app;
}
