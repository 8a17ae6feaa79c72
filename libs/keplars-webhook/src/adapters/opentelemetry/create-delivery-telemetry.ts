import type { DeliveryTelemetry } from '../../core/ports/delivery-telemetry.js';
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './load-opentelemetry.js';
import { NoTelemetry } from '../../core/ports/no-telemetry.js';
import { OpenTelemetryDeliveryTelemetry } from './opentelemetry-delivery-telemetry.js';
import type { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';

/**
 * OpenTelemetry's metrics and spans when the app has `@opentelemetry/api`, nothing otherwise. The API
 * is imported here, once, at startup: the module loads and runs without it.
 */
export async function createDeliveryTelemetry(clock: SignedDeliveryClock, load?: () => Promise<OpenTelemetryApi>): Promise<DeliveryTelemetry> {
  const api = await loadOpenTelemetryApi(load);
  return api === undefined ? new NoTelemetry() : new OpenTelemetryDeliveryTelemetry(api, clock);
}
