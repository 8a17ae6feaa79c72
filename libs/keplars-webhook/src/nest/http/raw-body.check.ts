import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Readable } from 'node:stream';
import { KeplarsLog } from '../log/keplars-log.js';
import { KeplarsEndpoints } from '../options/keplars-endpoints.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

export const RAW_BODY_FIX =
  'Keplars signs the exact bytes it sends, so Nest must keep them: create the app with ' +
  '`NestFactory.create(AppModule, { rawBody: true })` (with Fastify: `NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true })`; ' +
  'in tests: `moduleRef.createNestApplication({ rawBody: true })`).';

const PROBE_TIMEOUT_MS = 1000;

/**
 * Refuses to start an app whose JSON body parser drops the raw body, instead of answering every
 * webhook 500 later. It feeds the parser the app really installed a two-byte body and looks for
 * `rawBody`, on Express and on Fastify. If it cannot find the parser (a custom setup), it says so
 * once, and the guard still checks each request.
 */
@Injectable()
export class RawBodyCheck implements OnModuleInit {
  private readonly logger = new KeplarsLog();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly endpoints: KeplarsEndpoints,
  ) {}

  async onModuleInit(): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // an application context without HTTP: no webhook route to protect
    // Workers only (queue role 'process'): they read bodies from the queue, no route receives any.
    if (this.endpoints.all().every((endpoint) => !endpoint.receives)) return;
    let recordsRawBody: boolean | undefined;
    try {
      recordsRawBody =
        adapter.getType() === 'fastify'
          ? await fastifyRecordsRawBody(adapter.getInstance())
          : await expressRecordsRawBody(adapter.getInstance());
    } catch {
      recordsRawBody = undefined;
    }
    if (recordsRawBody === false) throw new KeplarsConfigurationError([`the raw request body is not available. ${RAW_BODY_FIX}`]);
    if (recordsRawBody === undefined) {
      this.logger.warn(`Could not check at startup that the raw request body is kept; if webhooks answer 500, see: ${RAW_BODY_FIX}`);
    }
  }
}

interface ProbeRequest extends Readable {
  headers: Record<string, string>;
  method: string;
  url: string;
  rawBody?: unknown;
}

function probeRequest(): ProbeRequest {
  return Object.assign(Readable.from([Buffer.from('{}')]), {
    headers: { 'content-type': 'application/json', 'content-length': '2' },
    method: 'POST',
    url: '/',
  });
}

async function expressRecordsRawBody(app: any): Promise<boolean | undefined> {
  const stack: any[] | undefined = (app.router ?? app._router)?.stack;
  const parser = stack?.find((layer) => layer.name === 'jsonParser')?.handle;
  if (typeof parser !== 'function') return undefined;
  const request = probeRequest();
  const ran = await settleWithin((done) => parser(request, {}, done));
  return ran ? request.rawBody !== undefined : undefined;
}

async function fastifyRecordsRawBody(instance: any): Promise<boolean | undefined> {
  const symbol = Object.getOwnPropertySymbols(instance).find((s) => s.description === 'fastify.contentTypeParser');
  const parser = symbol && instance[symbol]?.getParser('application/json');
  if (typeof parser?.fn !== 'function') return undefined;
  const request = probeRequest();
  const ran = await settleWithin((done) => parser.fn.call(instance, request, Buffer.from('{}'), done));
  return ran ? request.rawBody !== undefined : undefined;
}

/** Runs a callback-style parser, resolving `true` when it calls back, `false` if it never does. */
function settleWithin(run: (done: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    run(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
