import type { KeplarsEventHandler } from './keplars-event-handler.js';

// How a request or a queued job can end, in the words every step, port and adapter share.

export interface HandlerFailure {
  readonly handler: string;
  readonly error: unknown;
}

/** How one delivery of an event ended; the HTTP layer maps each to a status (SPEC §3). */
export type DeliveryOutcome =
  | { readonly kind: 'handled'; readonly handlers: number; readonly ran: readonly KeplarsEventHandler[]; readonly unrecorded?: unknown }
  /** Valid and new, but no handler or listener of the app takes its type (answered 200 all the same, SPEC §3). */
  | { readonly kind: 'no-handler'; readonly unrecorded?: unknown }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'handler-failed'; readonly failures: readonly HandlerFailure[] }
  | { readonly kind: 'store-unavailable'; readonly error: unknown };

/** How queue mode's receiving side ended: written down (or found already there), or not at all. */
export type QueueWriteOutcome =
  | { readonly kind: 'queued' | 'duplicate' }
  | { readonly kind: 'quarantined'; readonly messages: readonly string[] }
  | { readonly kind: 'queue-unavailable'; readonly error: unknown };

/** How queue mode's receiving side ended, as the telemetry counts it. */
export type QueueWriteResult = QueueWriteOutcome['kind'];

/** Why the module refused a request before any handler ran: `keplars.webhook.refusal.reason`. */
export type RefusalReason = 'signature' | 'timestamp' | 'payload' | 'size' | 'content_type' | 'tenant_secret';
