// src/metrics.controller.ts: list it in a module's controllers (AppModule's, say)
import { Controller, Get, Header } from '@nestjs/common';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { prometheusExporter } from './instrumentation.js';

@Controller()
export class MetricsController {
  private readonly serializer = new PrometheusSerializer();

  /** What Prometheus scrapes: the webhook's metrics, and any other OpenTelemetry metric of the app. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    const { resourceMetrics } = await prometheusExporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }
}
