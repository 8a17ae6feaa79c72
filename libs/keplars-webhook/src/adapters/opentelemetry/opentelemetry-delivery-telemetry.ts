import type { Attributes, Context, Counter, Histogram, Meter, Span, SpanContext, SpanOptions, Tracer } from '@opentelemetry/api';
import { isKnownKeplarsEventType, type KeplarsEvent } from '../../core/0-event/keplars-event.js';
import type { DeliveryTelemetry, QueuedAttempt } from '../../core/ports/delivery-telemetry.js';
import type { OpenTelemetryApi } from './load-opentelemetry.js';
import type { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';
import { ATTRIBUTE, DURATION_BUCKETS_SECONDS, METER_NAME, METRIC, SPAN, type DeliveryOutcomeName } from './telemetry-names.js';
import type { DeliveryOutcome, QueueWriteResult, RefusalReason } from '../../core/0-event/delivery-outcome.js';
import type { KeplarsEventHandler } from '../../core/0-event/keplars-event-handler.js';
import type { QueueBacklog } from '../../core/ports/delivery-queue.js';

const OUTCOME_NAMES: Record<DeliveryOutcome['kind'], DeliveryOutcomeName> = {
  handled: 'handled',
  'no-handler': 'no_handler',
  duplicate: 'duplicate',
  'in-progress': 'in_progress',
  'handler-failed': 'handler_failed',
  'store-unavailable': 'store_unavailable',
};

const WRITE_NAMES: Record<QueueWriteResult, DeliveryOutcomeName> = {
  queued: 'queued',
  duplicate: 'duplicate',
  quarantined: 'quarantined',
  'queue-unavailable': 'queue_unavailable',
};

/** Outcomes that mean the module or the app failed (not the caller): their span's status is ERROR. */
const FAILED: ReadonlySet<DeliveryOutcomeName> = new Set(['handler_failed', 'store_unavailable', 'queue_unavailable', 'internal_error']);

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Event types come from signed requests, and Keplars may add new ones; still, keep the series bounded:
 * at most this many types other than Keplars' own (which never count against it), the rest as "other".
 */
const MAX_EVENT_TYPES = 64;

const WATCH = Symbol('keplars.webhook.delivery');

/** At most this many attribute sets are kept for reuse; past it, they are built per record. */
const MAX_CACHED_ATTRIBUTES = 4096;

/** Attribute sets by the parts of their combination, one level per part. */
type AttributeCache = Map<string, AttributeCache | Attributes | DeliveryAttributes>;

/** A request's two records: the deliveries counter (with the event type) and the request duration. */
interface DeliveryAttributes {
  readonly delivery: Attributes;
  readonly duration: Attributes;
}

/** What the module keeps of a request between its arrival and its answer. */
interface Watch {
  readonly startedAt: number;
  readonly span: Span;
  readonly endpoint: string | undefined;
}

type WatchedRequest = { [WATCH]?: Watch };

/**
 * Metrics and spans through `@opentelemetry/api`. With no SDK registered, the API hands out its own
 * no-op meter and tracer, so this costs a few calls into empty functions per request (see the
 * benchmark's `module-otel-api` target). Instruments are created at startup: register the SDK before
 * the Nest app is created, as OpenTelemetry's own docs say.
 */
export class OpenTelemetryDeliveryTelemetry implements DeliveryTelemetry {
  private readonly tracer: Tracer;
  private readonly deliveries: Counter;
  private readonly requestDuration: Histogram;
  private readonly handlerDuration: Histogram;
  /** The delivery each event belongs to, so handler spans are its children with or without a context manager. */
  private readonly parents = new WeakMap<KeplarsEvent, Context>();
  private readonly eventTypes = new Set<string>();
  private readonly meter: Meter;
  /** Attribute sets of the records, by combination (see {@link deliveryAttributes}). */
  private readonly recordAttributes: AttributeCache = new Map();
  private readonly handlerRecordAttributes: AttributeCache = new Map();
  private cachedAttributeSets = 0;
  private readonly endpointSpanOptions = new Map<string, SpanOptions>();
  private readonly unnamedSpanOptions: SpanOptions;

  constructor(
    private readonly api: OpenTelemetryApi,
    clock: SignedDeliveryClock,
  ) {
    const meter = (this.meter = api.metrics.getMeter(METER_NAME));
    this.tracer = api.trace.getTracer(METER_NAME);
    this.unnamedSpanOptions = Object.freeze({ kind: api.SpanKind.INTERNAL });
    this.deliveries = meter.createCounter(METRIC.deliveries, {
      description: 'Requests that reached the Keplars webhook, by outcome (and refusal reason, event type).',
      unit: '{delivery}',
    });
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS };
    this.requestDuration = meter.createHistogram(METRIC.requestDuration, {
      description: 'Time from the signature check to the answer.',
      unit: 's',
      advice,
    });
    this.handlerDuration = meter.createHistogram(METRIC.handlerDuration, {
      description: 'Time one handler took on one event; the count is the number of runs.',
      unit: 's',
      advice,
    });
    meter
      .createObservableGauge(METRIC.signedDeliveryAge, {
        description: 'Time since the last correctly signed delivery on each endpoint (since startup, before the first).',
        unit: 's',
      })
      .addCallback((result) => {
        // One series per endpoint (SPEC §7): alert on each account, `min by (keplars_webhook_endpoint)`.
        for (const [endpoint, age] of clock.ages()) result.observe(age, { [ATTRIBUTE.endpoint]: endpoint });
      });
  }

  received(request: object, endpoint?: string): void {
    const span = this.tracer.startSpan(SPAN.delivery, this.spanOptions(endpoint));
    (request as WatchedRequest)[WATCH] = { startedAt: performance.now(), span, endpoint };
  }

  refused(request: object, reason: RefusalReason): void {
    this.finish(request, 'refused', undefined, reason);
  }

  async deliver(request: object, event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    const watch = (request as WatchedRequest)[WATCH];
    const eventType = this.boundedType(event.type);
    if (watch === undefined) return run();
    watch.span.setAttribute(ATTRIBUTE.eventId, event.id);
    watch.span.setAttribute(ATTRIBUTE.eventType, eventType);
    const context = this.api.trace.setSpan(this.api.context.active(), watch.span);
    this.parents.set(event, context);
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.api.context.with(context, run);
    } catch (error) {
      this.finish(request, 'internal_error', eventType);
      throw error;
    }
    this.finish(request, OUTCOME_NAMES[outcome.kind], eventType);
    return outcome;
  }

  traceparent(request: object): string | undefined {
    const context = (request as WatchedRequest)[WATCH]?.span.spanContext();
    if (context === undefined || !this.api.isSpanContextValid(context)) return undefined; // no tracing SDK: nothing to carry
    return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  }

  written(request: object, event: { readonly id: string; readonly type: string } | undefined, result: QueueWriteResult): void {
    const eventType = event === undefined ? undefined : this.boundedType(event.type);
    if (event !== undefined) {
      const watch = (request as WatchedRequest)[WATCH];
      watch?.span.setAttribute(ATTRIBUTE.eventId, event.id);
      watch?.span.setAttribute(ATTRIBUTE.eventType, eventType!);
    }
    this.finish(request, WRITE_NAMES[result], eventType);
  }

  async process(attempt: QueuedAttempt, event: KeplarsEvent, run: () => DeliveryOutcome | Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    const queuedIn = parseTraceparent(attempt.traceparent);
    const parent = queuedIn === undefined ? this.api.context.active() : this.api.trace.setSpanContext(this.api.ROOT_CONTEXT, queuedIn);
    const span = this.tracer.startSpan(
      SPAN.process,
      {
        kind: this.api.SpanKind.CONSUMER,
        attributes: { [ATTRIBUTE.eventId]: event.id, [ATTRIBUTE.eventType]: this.boundedType(event.type), [ATTRIBUTE.attempt]: attempt.attempt },
      },
      parent,
    );
    const context = this.api.trace.setSpan(parent, span);
    this.parents.set(event, context);
    try {
      const outcome = await this.api.context.with(context, run);
      const name = OUTCOME_NAMES[outcome.kind];
      span.setAttribute(ATTRIBUTE.outcome, name);
      if (FAILED.has(name)) span.setStatus({ code: this.api.SpanStatusCode.ERROR });
      return outcome;
    } catch (error) {
      span.setAttribute(ATTRIBUTE.outcome, 'internal_error');
      span.setStatus({ code: this.api.SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  observeQueue(read: () => Promise<QueueBacklog>): void {
    const jobs = this.meter.createObservableGauge(METRIC.queueJobs, { description: 'Queue mode: deliveries in the queue by state.', unit: '{job}' });
    const oldest = this.meter.createObservableGauge(METRIC.queueOldestWaitingAge, {
      description: 'Queue mode: how long the oldest waiting delivery has waited.',
      unit: 's',
    });
    this.meter.addBatchObservableCallback(async (result) => {
      let backlog: QueueBacklog;
      try {
        backlog = await read();
      } catch {
        return; // Redis away: no reading rather than a wrong one (the health check says why)
      }
      result.observe(jobs, backlog.waiting, { [ATTRIBUTE.queueState]: 'waiting' });
      result.observe(jobs, backlog.active, { [ATTRIBUTE.queueState]: 'active' });
      result.observe(jobs, backlog.delayed, { [ATTRIBUTE.queueState]: 'delayed' });
      result.observe(jobs, backlog.deadLetters, { [ATTRIBUTE.queueState]: 'dead_letter' });
      result.observe(oldest, backlog.oldestWaitingAgeSeconds);
    }, [jobs, oldest]);
  }

  instrumentHandler(handler: KeplarsEventHandler): KeplarsEventHandler {
    const spanName = `${SPAN.handler} ${handler.name}`;
    const invoke = (event: KeplarsEvent, transaction?: unknown): unknown => {
      const parent = this.parents.get(event) ?? this.api.context.active();
      const span = this.tracer.startSpan(spanName, { attributes: { [ATTRIBUTE.handler]: handler.name } }, parent);
      const startedAt = performance.now();
      const ended = (error?: unknown) => this.handlerEnded(handler.name, event, span, startedAt, error);
      let returned: unknown;
      try {
        returned = this.api.context.with(this.api.trace.setSpan(parent, span), handler.invoke, undefined, event, transaction);
      } catch (error) {
        ended(error ?? new Error('thrown'));
        throw error;
      }
      if (!isPromiseLike(returned)) {
        ended();
        return returned;
      }
      return Promise.resolve(returned).then(
        (value) => {
          ended();
          return value;
        },
        (error: unknown) => {
          ended(error ?? new Error('rejected'));
          throw error;
        },
      );
    };
    return { ...handler, invoke };
  }

  private handlerEnded(handler: string, event: KeplarsEvent, span: Span, startedAt: number, error?: unknown): void {
    const failed = error !== undefined;
    this.handlerDuration.record((performance.now() - startedAt) / 1000, this.handlerAttributes(event.endpoint, handler, failed, this.boundedType(event.type)));
    if (failed) {
      // The class name only: an error's message is the app's words and may carry what must not leave it.
      span.setAttribute(ATTRIBUTE.errorType, error instanceof Error ? error.name : typeof error);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    span.end();
  }

  private finish(request: object, outcome: DeliveryOutcomeName, eventType?: string, reason?: RefusalReason): void {
    const watch = (request as WatchedRequest)[WATCH];
    if (watch === undefined) return;
    (request as WatchedRequest)[WATCH] = undefined;
    const { span, startedAt, endpoint } = watch;
    const attributes = this.deliveryAttributes(endpoint, outcome, eventType, reason);
    this.deliveries.add(1, attributes.delivery);
    this.requestDuration.record((performance.now() - startedAt) / 1000, attributes.duration);
    span.setAttribute(ATTRIBUTE.outcome, outcome);
    if (reason !== undefined) span.setAttribute(ATTRIBUTE.refusalReason, reason);
    if (FAILED.has(outcome)) span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    span.end();
  }

  /**
   * The attributes of a request's two records, built once per combination and reused: per endpoint,
   * so each Keplars account has its own series (SPEC §7). The combinations are few (endpoints ×
   * outcomes × the bounded event types), and the cache is bounded all the same. Nested maps, looked
   * up with strings the request already has: no key is built per request.
   */
  private deliveryAttributes(endpoint: string | undefined, outcome: DeliveryOutcomeName, eventType: string | undefined, reason: RefusalReason | undefined): DeliveryAttributes {
    const byOutcome = this.child(this.recordAttributes, endpoint ?? '');
    const byType = this.child(byOutcome, outcome);
    const byReason = this.child(byType, eventType ?? '');
    let attributes = byReason.get(reason ?? '') as DeliveryAttributes | undefined;
    if (attributes !== undefined) return attributes;
    const delivery: Attributes = {};
    const duration: Attributes = {};
    if (endpoint !== undefined) delivery[ATTRIBUTE.endpoint] = duration[ATTRIBUTE.endpoint] = endpoint;
    delivery[ATTRIBUTE.outcome] = duration[ATTRIBUTE.outcome] = outcome;
    if (reason !== undefined) delivery[ATTRIBUTE.refusalReason] = duration[ATTRIBUTE.refusalReason] = reason;
    if (eventType !== undefined) delivery[ATTRIBUTE.eventType] = eventType;
    attributes = { delivery: Object.freeze(delivery), duration: Object.freeze(duration) };
    this.remember(byReason, reason ?? '', attributes);
    return attributes;
  }

  private handlerAttributes(endpoint: string, handler: string, failed: boolean, eventType: string): Attributes {
    const byHandler = this.child(this.handlerRecordAttributes, endpoint);
    const byType = this.child(byHandler, handler);
    const outcome = failed ? 'failure' : 'success';
    const byOutcome = this.child(byType, eventType);
    let attributes = byOutcome.get(outcome) as Attributes | undefined;
    if (attributes !== undefined) return attributes;
    attributes = Object.freeze({
      [ATTRIBUTE.endpoint]: endpoint,
      [ATTRIBUTE.handler]: handler,
      [ATTRIBUTE.handlerOutcome]: outcome,
      [ATTRIBUTE.eventType]: eventType,
    });
    this.remember(byOutcome, outcome, attributes);
    return attributes;
  }

  private child(map: AttributeCache, key: string): AttributeCache {
    let child = map.get(key) as AttributeCache | undefined;
    if (child === undefined) {
      child = new Map();
      if (this.cachedAttributeSets < MAX_CACHED_ATTRIBUTES) map.set(key, child);
    }
    return child;
  }

  private remember(map: AttributeCache, key: string, attributes: Attributes | DeliveryAttributes): void {
    if (this.cachedAttributeSets >= MAX_CACHED_ATTRIBUTES) return;
    this.cachedAttributeSets++;
    map.set(key, attributes);
  }

  private spanOptions(endpoint: string | undefined): SpanOptions {
    if (endpoint === undefined) return this.unnamedSpanOptions;
    let options = this.endpointSpanOptions.get(endpoint);
    if (options === undefined) {
      options = Object.freeze({ kind: this.api.SpanKind.INTERNAL, attributes: Object.freeze({ [ATTRIBUTE.endpoint]: endpoint }) });
      if (this.endpointSpanOptions.size < 1024) this.endpointSpanOptions.set(endpoint, options);
    }
    return options;
  }

  /** Keplars' own types always by name; other types (from signed requests: any signer can make them up) share the budget. */
  private boundedType(type: string): string {
    if (isKnownKeplarsEventType(type) || this.eventTypes.has(type)) return type;
    if (this.eventTypes.size >= MAX_EVENT_TYPES) return 'other';
    this.eventTypes.add(type);
    return type;
  }
}

/** The span context a W3C `traceparent` names, as a remote parent; `undefined` for anything else. */
function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value);
  if (match === null) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
