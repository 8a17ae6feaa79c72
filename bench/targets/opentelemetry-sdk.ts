import { metrics, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

// `module-otel-sdk`: the OpenTelemetry SDK registered as a production app would, before the app is
// created, and exporting while the load runs: metrics read in-process and serialised as Prometheus
// text every few seconds (a scrape), every span recorded (no sampling) and handed in batches to an
// exporter that only counts them (no network on a benchmark machine).

const SCRAPE_INTERVAL_MS = 5_000;

class CountingSpanExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export function registerOpenTelemetrySdk(): void {
  const reader = new PrometheusExporter({ preventServerStart: true });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new CountingSpanExporter() })] }));

  const scrape = setInterval(() => {
    const response = { statusCode: 0, setHeader() {}, end() {} };
    reader.getMetricsRequestHandler({} as never, response as never);
  }, SCRAPE_INTERVAL_MS);
  scrape.unref();
}
