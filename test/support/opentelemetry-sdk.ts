import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** One metric series: its name and attributes, as `name{key=value,…}` with keys in order. */
export type SeriesKey = string;

/**
 * The OpenTelemetry SDK registered globally with its own in-memory test exporters, as an app's
 * tracing setup would register a real one before creating the Nest app.
 */
export class InMemoryOpenTelemetry {
  readonly spans = new InMemorySpanExporter();
  private readonly metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  private readonly reader = new PeriodicExportingMetricReader({ exporter: this.metricExporter, exportIntervalMillis: 3_600_000 });
  private readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  private readonly tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: this.spans })] });

  static register(): InMemoryOpenTelemetry {
    const sdk = new InMemoryOpenTelemetry();
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    return sdk;
  }

  /** Everything the SDK would export now. */
  async collect(): Promise<ResourceMetrics> {
    this.metricExporter.reset();
    await this.reader.forceFlush();
    const exported = this.metricExporter.getMetrics();
    return exported.at(-1)!;
  }

  /** Counters' sums and histograms' counts, per series (cumulative since the SDK started). */
  async series(): Promise<Map<SeriesKey, number>> {
    const values = new Map<SeriesKey, number>();
    for (const scope of (await this.collect()).scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          const key = seriesKey(metric.descriptor.name, point.attributes as Record<string, unknown>);
          if (metric.dataPointType === DataPointType.HISTOGRAM) values.set(key, (point.value as { count: number }).count);
          else values.set(key, point.value as number);
        }
      }
    }
    return values;
  }

  /** The series that moved between two readings, and by how much (gauges left out). */
  static moved(before: Map<SeriesKey, number>, after: Map<SeriesKey, number>, names: readonly string[]): Record<SeriesKey, number> {
    const moved: Record<SeriesKey, number> = {};
    for (const [key, value] of after) {
      if (!names.some((name) => key.startsWith(`${name}{`))) continue;
      const delta = value - (before.get(key) ?? 0);
      if (delta !== 0) moved[key] = delta;
    }
    return moved;
  }

  finishedSpans(): ReadableSpan[] {
    return this.spans.getFinishedSpans();
  }

  async shutdown(): Promise<void> {
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
    metrics.disable();
    trace.disable();
  }
}

export function seriesKey(name: string, attributes: Record<string, unknown>): SeriesKey {
  const pairs = Object.keys(attributes)
    .sort()
    .map((key) => `${key}=${String(attributes[key])}`);
  return `${name}{${pairs.join(',')}}`;
}
