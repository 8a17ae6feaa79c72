import { DEFAULT_ENDPOINT, type KeplarsEventSource } from '../0-event/keplars-event.js';

/**
 * The key an event is deduplicated (and locked, and queued) under: its id, namespaced by the endpoint
 * and tenant that received it, so the same id from two Keplars accounts is two events (SPEC §7).
 *
 * `eu:acme:evt_1` reads left to right without ambiguity: endpoint names cannot hold `:`, and the tenant
 * is percent-encoded, so the first two `:` end them. The default endpoint without a tenant keeps the
 * bare id, as 0.1.0 wrote it (marks in Redis survive an upgrade), unless that id itself holds a `:`,
 * which would make it look namespaced: then it is spelled out like any other.
 *
 * @example keplarsEventKey({ endpoint: 'eu' }, 'evt_1') // 'eu::evt_1'
 */
export function keplarsEventKey(source: Partial<KeplarsEventSource> | undefined, eventId: string): string {
  const endpoint = source?.endpoint ?? DEFAULT_ENDPOINT;
  const tenant = source?.tenant;
  if (endpoint === DEFAULT_ENDPOINT && tenant === undefined && !eventId.includes(':')) return eventId;
  return `${endpoint}:${tenant === undefined ? '' : encodeURIComponent(tenant)}:${eventId}`;
}
