import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * A verified delivery as queue mode writes it down (SPEC §4a): the exact bytes Keplars signed, the
 * headers that came with them, and when it arrived. Workers read the event from it, as the inline
 * route reads it from the request; a replay months later still has everything.
 */
export interface QueuedDelivery {
  /** The raw body: its UTF-8 text, or base64 when the bytes are not valid UTF-8. */
  readonly body: string;
  /** How `body` is written: `'utf8'` (the text itself) or `'base64'` (bytes that are not valid UTF-8). */
  readonly bodyEncoding: 'utf8' | 'base64';
  /** The signature (and timestamp) headers and the content type, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Arrival time, ms since the epoch; it stands in for a payload's missing timestamp. */
  readonly receivedAt: number;
  /** The endpoint (module import) that received it, and the tenant on a tenant route: the worker's event carries them. */
  readonly endpoint?: string;
  /** The tenant named in the request's path, on a route with `tenants`; absent otherwise. */
  readonly tenant?: string;
  /** What the receiver read: the event's id (Keplars' own, or the derived `kpl_…`); absent when it could not read the body. */
  readonly eventId?: string;
  /** The event's type, e.g. `'email.bounced'`; absent when the receiver could not read the body. */
  readonly type?: string;
  /** Why the receiver could not read a signed body (not JSON, no type, failing validation), one message each; absent when it could. */
  readonly unreadable?: readonly string[];
  /** The W3C trace context of the request that queued it (with a tracing SDK), so the workers' spans join its trace. */
  readonly traceparent?: string;
  /** Kept by the workers: handlers that have succeeded for this event, across attempts and replays. */
  readonly succeeded?: readonly string[];
  /** Kept by the workers: each handler that has not succeeded yet, with its last error. */
  readonly failures?: readonly QueuedHandlerFailure[];
}

/** One handler's latest failure on a queued delivery, as a dead letter shows it. */
export interface QueuedHandlerFailure {
  /** The handler's name, `Class.method` (with `#2`, `#3`… when two providers share a class and method name). */
  readonly handler: string;
  /** The error's message (its stack's first lines for a non-Error). */
  readonly error: string;
  /** The attempt it failed on, from 1. */
  readonly attempt: number;
  /** When it failed, in ms since the epoch. */
  readonly at: number;
}

/** Writes a verified request down: raw bytes exactly, and only the headers the module reads. */
export function recordDelivery(rawBody: Buffer, headers: IncomingHttpHeaders, headerNames: readonly string[], receivedAt = Date.now()): QueuedDelivery {
  const kept: Record<string, string> = {};
  for (const name of headerNames) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  const utf8 = isUtf8(rawBody);
  return { body: rawBody.toString(utf8 ? 'utf8' : 'base64'), bodyEncoding: utf8 ? 'utf8' : 'base64', headers: kept, receivedAt };
}

/** The exact bytes that were signed. */
export function rawBodyOf(delivery: Pick<QueuedDelivery, 'body' | 'bodyEncoding'>): Buffer {
  return Buffer.from(delivery.body, delivery.bodyEncoding);
}
