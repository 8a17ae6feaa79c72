import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * OpenTelemetry's metrics SDK, read by its Prometheus exporter on `GET /metrics` (the app's own
 * route, so no second port). Registered when this file is first imported, before Nest creates
 * anything: the webhook module takes its meter from the global provider at startup.
 */
export const prometheusExporter = new PrometheusExporter({ preventServerStart: true });

metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheusExporter] }));
