import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException, type OnModuleInit } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RefusalLog } from '../log/refusal-log.js';
import { KEPLARS_ENDPOINT_METADATA, KEPLARS_ROUTE_CONFIG_KEY, KEPLARS_ROUTE_MARK, NEST_METHOD_METADATA } from './keplars-route-mark.js';
import { type KeplarsWebhookRequest } from './keplars-webhook-request.js';
import type { BodyEncodingCheck, FastifyReplyLike } from './body-encoding.check.js';
import { BodyTooLargeError, readRequestBody } from './read-request-body.js';
import { parseWebhookJson, UnreadableJsonBody } from '../../core/2-read/unreadable-json-body.js';
import { REFUSED_HEADER } from '../../core/5-answer/answer-headers.js';
import { declaresBody, isJsonRequest } from '../../core/1-verify/verify-request.js';

/** A route that receives webhooks, as the module's endpoints describe it. */
export interface ReceivingRoute {
  readonly name: string;
  readonly receives: boolean;
  readonly maxBodyBytes: number;
}

/**
 * Express's JSON parser reads up to 100 kB unless told otherwise; the webhook route reads at least as
 * much, so a body over a smaller `maxBodyBytes` still reaches the guard and gets its 413 and log line.
 */
const EXPRESS_DEFAULT_LIMIT = 100 * 1024;

/**
 * Fastify picks a body's parser by its Content-Type, before any route code runs. On the webhook
 * route the request is given this type for that moment only, so the module's parser reads it.
 */
const ROUTE_CONTENT_TYPE = 'application/x-keplars-webhook-route';

/**
 * Where a Fastify request keeps its Content-Type while it is switched to {@link ROUTE_CONTENT_TYPE}: a
 * property of the request's own (a `WeakMap` cost an ephemeron-table entry per request, and the
 * garbage collector's work to clear it).
 */
const ORIGINAL_CONTENT_TYPE = Symbol('keplars.originalContentType');
type SwitchedRequest = IncomingMessage & { [ORIGINAL_CONTENT_TYPE]?: string | undefined };

/**
 * Reads the webhook route's body itself, on Express and Fastify, so that a body that is not JSON
 * reaches the signature guard instead of being answered 400 by the framework's parser (SPEC §3: the
 * signature is checked before anything is parsed; §4a: nothing signed is dropped). Such a body becomes
 * an {@link UnreadableJsonBody}, which validation refuses with the parser's message. The raw bytes are
 * kept as `rawBody`, exactly as sent. Every other route of the app keeps the framework's parser, its
 * options and its answers.
 *
 * - Express: a middleware added when the HTTP adapter is set, so before the parsers Nest (or
 *   `app.useBodyParser()`) adds at `init()`; it reads the bodies of requests that Express's own router
 *   will hand to the webhook route (the first Nest route that matches, found by the mark Nest copies
 *   to its handler: global prefix, exclusions, versions and `RouterModule` paths are Nest's and
 *   Express's business, not re-derived here). A body it has read counts as read for the parsers
 *   after it, which skip it.
 * - Fastify: a content-type parser of the module's own, chosen for the webhook route only (by its
 *   route mark) from an `onRequest` hook; it parses with `parseWebhookJson`, as on Express and in the
 *   queue's worker, within the app's `bodyLimit`, and puts the Content-Type header back.
 */
export class WebhookRouteBody implements OnModuleInit {
  /** Read limits by endpoint name, for the endpoints whose route receives; known once the app is initialised. */
  private limits: ReadonlyMap<string, number> | undefined;
  /** What each Express route is, as its handlers say: the webhook endpoint's name, `null` for another Nest route, `undefined` for a middleware's route. */
  private readonly routeKinds = new WeakMap<ExpressRoute, string | null | undefined>();
  private fastifyAttached = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: () => readonly ReceivingRoute[],
    private readonly refusals: RefusalLog,
    private readonly encodings: BodyEncodingCheck,
  ) {
    // Providers are created before Nest registers its body parsers and routes (even before the HTTP
    // adapter is known, in @nestjs/testing): the adapter is announced once it is set, still before init().
    const announced = (adapterHost as { readonly init$?: HttpAdapterHost['init$'] }).init$;
    if (announced) announced.subscribe(() => this.attach());
    // A Nest without init$: NestFactory sets the adapter before it creates providers (@nestjs/testing does
    // not: there Express's parser answers a body that is not JSON, as it used to, and onModuleInit
    // below hooks Fastify's every request).
    else this.attach();
  }

  private attach(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'express') adapter.use(this.readExpressBody);
    if (adapter?.getType() === 'fastify') this.attachToFastify(adapter.getInstance() as FastifyLike, 'routes to come');
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'fastify' && !this.fastifyAttached) this.attachToFastify(adapter.getInstance() as FastifyLike, 'routes registered');
  }

  /**
   * Before the routes exist (the usual case), the hooks go on the webhook routes alone, as Fastify
   * registers them (`onRoute`): the app's other routes run no hook of the module's. Once they exist,
   * only a hook on every request can still see the webhook route's, by its mark.
   */
  private attachToFastify(fastify: FastifyLike, when: 'routes to come' | 'routes registered'): void {
    this.fastifyAttached = true;
    const { bodyLimit } = fastify.initialConfig;
    fastify.addContentTypeParser(ROUTE_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit }, (request, rawBody, done) => {
      this.restoreContentType(request.raw);
      request.rawBody = rawBody;
      done(null, parseWebhookJson(rawBody)); // as on Express, and as the queue's worker reads it
    });
    // Callback-style hooks: no promise per request. An encoded body is refused (415) before it is read.
    const onRequest: FastifyHook = (request, reply, done) => {
      if (this.encodings.refuses(request, reply)) return; // answered: the request goes no further
      if (request.method === 'POST' && isJsonRequest(request.headers)) {
        const raw = request.raw as SwitchedRequest;
        raw[ORIGINAL_CONTENT_TYPE] = raw.headers['content-type'];
        raw.headers['content-type'] = ROUTE_CONTENT_TYPE;
      }
      done();
    };
    // A body that was never parsed (over bodyLimit, cut short) still leaves with its own header.
    const onError: FastifyErrorHook = (request, _reply, _error, done) => {
      this.restoreContentType(request.raw);
      done();
    };
    if (when === 'routes to come') {
      fastify.addHook('onRoute', (route) => {
        if (route.config?.[KEPLARS_ROUTE_CONFIG_KEY] !== KEPLARS_ROUTE_MARK) return;
        route.onRequest = [...hooksOf(route.onRequest), onRequest];
        route.onError = [...hooksOf(route.onError), onError];
      });
      return;
    }
    const onWebhookRoute = (request: FastifyRequestLike): boolean => request.routeOptions?.config?.[KEPLARS_ROUTE_CONFIG_KEY] === KEPLARS_ROUTE_MARK;
    fastify.addHook('onRequest', (request, reply, done) => (onWebhookRoute(request) ? onRequest(request, reply, done) : done()));
    fastify.addHook('onError', (request, reply, error, done) => (onWebhookRoute(request) ? onError(request, reply, error, done) : done()));
  }

  private restoreContentType(raw: SwitchedRequest): void {
    const original = raw[ORIGINAL_CONTENT_TYPE];
    if (original === undefined) return;
    raw.headers['content-type'] = original;
    raw[ORIGINAL_CONTENT_TYPE] = undefined;
  }

  private readonly readExpressBody = (request: ExpressRequest, response: ServerResponse, next: (error?: unknown) => void): void => {
    if (request.method !== 'POST' || !isJsonRequest(request.headers)) return next();
    // Already read by a parser of the app's own express instance (new ExpressAdapter(app)): nothing left to read.
    if (request.readableEnded || request.body !== undefined) return next();
    const limit = this.readLimitOfRoutedEndpoint(request);
    if (limit === undefined) return next();
    // Refused before Express's parser tries to decode it (and answers 400, or 415 of its own), even empty.
    if (this.encodings.refused(request)) {
      response.setHeader(REFUSED_HEADER, '1');
      return next(new UnsupportedMediaTypeException());
    }
    if (!declaresBody(request.headers)) return next();
    readRequestBody(request, limit).then(
      (rawBody) => {
        request.rawBody = rawBody;
        request.body = parseWebhookJson(rawBody);
        next();
      },
      (error: unknown) => {
        if (!(error instanceof BodyTooLargeError)) return next(new BadRequestException('The request body could not be read.'));
        const ip = request.ip ?? request.socket.remoteAddress;
        this.refusals.refused('over maxBodyBytes (413)', ip, () => `Rejected a webhook from ${ip}: its body is over ${error.limit} bytes, more than maxBodyBytes allows (413).`);
        response.setHeader(REFUSED_HEADER, '1');
        next(new PayloadTooLargeException());
      },
    );
  };

  /**
   * The read limit of the webhook endpoint Express's router will hand this POST to, or `undefined` if
   * it goes elsewhere. Express tries its routes in order: the first Nest route whose path matches
   * takes the request (a middleware's route, `forRoutes()`, does not), as Express itself decides.
   */
  private readLimitOfRoutedEndpoint(request: ExpressRequest): number | undefined {
    const router = (this.adapterHost.httpAdapter.getInstance() as { readonly router?: { readonly stack?: readonly ExpressLayer[] } }).router;
    const path = (request.url ?? '/').split('?', 1)[0]!;
    for (const layer of router?.stack ?? []) {
      const route = layer.route;
      if (route === undefined || !(route.methods.post || route.methods._all)) continue;
      const endpoint = this.kindOf(route);
      if (endpoint === undefined || !matches(layer, path)) continue;
      return endpoint === null ? undefined : this.limitOf(endpoint);
    }
    return undefined;
  }

  private kindOf(route: ExpressRoute): string | null | undefined {
    if (this.routeKinds.has(route)) return this.routeKinds.get(route);
    let kind: string | null | undefined;
    for (const { handle } of route.stack) {
      const endpoint = Reflect.getMetadata(KEPLARS_ENDPOINT_METADATA, handle) as string | undefined;
      if (endpoint !== undefined) kind = endpoint;
      else if (kind === undefined && Reflect.hasMetadata(NEST_METHOD_METADATA, handle)) kind = null;
    }
    this.routeKinds.set(route, kind);
    return kind;
  }

  private limitOf(endpoint: string): number | undefined {
    this.limits ??= new Map(this.routes().filter((route) => route.receives).map((route) => [route.name, Math.max(route.maxBodyBytes, EXPRESS_DEFAULT_LIMIT)]));
    return this.limits.get(endpoint);
  }
}

/** Whether the layer's path matches; a parameter that does not decode (`%E0`) is Express's 400 to give, not the module's. */
function matches(layer: ExpressLayer, path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    return false;
  }
}

/** A layer of Express's router (the `router` package Express 5 uses): a middleware, or a route. */
interface ExpressLayer {
  readonly route?: ExpressRoute;
  match(path: string): unknown;
}

interface ExpressRoute {
  readonly methods: Readonly<Record<string, boolean | undefined>>;
  readonly stack: readonly { readonly handle: object }[];
}

type ExpressRequest = IncomingMessage & { rawBody?: Buffer; body?: unknown; readonly ip?: string; headers: KeplarsWebhookRequest['headers'] };

interface FastifyRequestLike extends KeplarsWebhookRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  readonly routeOptions?: { readonly config?: Record<string, unknown> };
  rawBody?: Buffer;
}

type ParserDone = (error: Error | null, body?: unknown) => void;

type FastifyHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void;
type FastifyErrorHook = (request: FastifyRequestLike, reply: FastifyReplyLike, error: unknown, done: () => void) => void;

/** A route as Fastify's `onRoute` hook sees it: its hooks may be one function or a list. */
interface FastifyRouteLike {
  readonly config?: Record<string, unknown>;
  onRequest?: FastifyHook | FastifyHook[];
  onError?: FastifyErrorHook | FastifyErrorHook[];
}

interface FastifyLike {
  readonly initialConfig: { readonly bodyLimit?: number };
  addContentTypeParser(type: string, options: { parseAs: 'buffer'; bodyLimit?: number }, parser: (request: FastifyRequestLike, body: Buffer, done: ParserDone) => void): void;
  addHook(name: 'onRoute', hook: (route: FastifyRouteLike) => void): void;
  addHook(name: 'onRequest', hook: FastifyHook): void;
  addHook(name: 'onError', hook: FastifyErrorHook): void;
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
