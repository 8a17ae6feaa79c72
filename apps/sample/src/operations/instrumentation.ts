// src/instrumentation.ts: main.ts imports it first (import './instrumentation.js'), before Nest creates the app
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** Read on the app's own GET /metrics (metrics.controller.ts): no second server, no second port. */
export const prometheusExporter = new PrometheusExporter({ preventServerStart: true });

metrics.setGlobalMeterProvider(new MeterProvider({ readers: [prometheusExporter] }));
