/**
 * Every event type Keplars documents (SPEC §1). Keplars may add types at any time: those still reach
 * `'*'` and `'email.*'` handlers, as an {@link UnknownKeplarsEvent}.
 */
export const KEPLARS_EVENT_TYPES = [
  'email.queued',
  'email.sent',
  'email.delivered',
  'email.opened',
  'email.clicked',
  'email.bounced',
  'email.failed',
  'email.scheduled',
  'email.cancelled',
  'email.complained',
] as const;

export type KeplarsEventType = (typeof KEPLARS_EVENT_TYPES)[number];

const KNOWN_TYPES: ReadonlySet<string> = new Set(KEPLARS_EVENT_TYPES);

export function isKnownKeplarsEventType(type: string): type is KeplarsEventType {
  return KNOWN_TYPES.has(type);
}

/** Where an event came from: the endpoint (module import) that received it, and its tenant if any. */
export interface KeplarsEventSource {
  /** The endpoint's `name`; `'default'` when the import has none. */
  readonly endpoint: string;
  /** The tenant named in the request's path, on a route with `tenants`. */
  readonly tenant?: string | undefined;
}

/** The name of an import of the module that was given none. */
export const DEFAULT_ENDPOINT = 'default';

/** What every event carries, whichever of Keplars' wire shapes it arrived in. */
export interface KeplarsEventBase<TType extends string = string> {
  /** The event type, e.g. `'email.opened'`. */
  readonly type: TType;
  /**
   * Keplars' event id, or, when the payload has none, `kpl_…` derived from its content, so that a
   * retry of the same event carries the same id.
   */
  readonly id: string;
  /** When the event happened (the payload's `timestamp`), or when it was received if it has none. */
  readonly timestamp: Date;
  /** The email this event is about (`email_id`, or `job_id` / `message_id` in older payloads). */
  readonly emailId: string | undefined;
  /** The recipient address (`to`, or `recipient`). */
  readonly recipient: string | undefined;
  readonly subject: string | undefined;
  readonly workspaceId: string | undefined;
  /** The metadata you attached when sending, `{}` when there is none. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The JSON body exactly as Keplars sent it, for anything the canonical fields do not cover. */
  readonly body: Readonly<Record<string, unknown>>;
  /**
   * The endpoint that received it: the `name` of the module import (`'default'` when unnamed). Lets one
   * app tell its Keplars accounts apart; `@OnKeplarsEvent(type, { endpoint })` filters on it.
   */
  readonly endpoint: string;
  /** The tenant named in the request's path, on a route with `tenants` (one secret per tenant); else `undefined`. */
  readonly tenant: string | undefined;
}

export type EmailQueuedEvent = KeplarsEventBase<'email.queued'>;
export type EmailSentEvent = KeplarsEventBase<'email.sent'>;
export type EmailDeliveredEvent = KeplarsEventBase<'email.delivered'>;
export type EmailOpenedEvent = KeplarsEventBase<'email.opened'>;
export type EmailScheduledEvent = KeplarsEventBase<'email.scheduled'>;
export type EmailCancelledEvent = KeplarsEventBase<'email.cancelled'>;
export type EmailComplainedEvent = KeplarsEventBase<'email.complained'>;

export interface EmailClickedEvent extends KeplarsEventBase<'email.clicked'> {
  /** The link that was clicked. */
  readonly url: string | undefined;
}

export interface EmailBouncedEvent extends KeplarsEventBase<'email.bounced'> {
  readonly bounceReason: string | undefined;
  /** `'hard'` (permanent: stop sending) or `'soft'` (temporary), when Keplars says which. */
  readonly bounceType: 'hard' | 'soft' | undefined;
}

export interface EmailFailedEvent extends KeplarsEventBase<'email.failed'> {
  /** Why sending failed (`error`, or `reason`). */
  readonly failureReason: string | undefined;
}

/** Maps each known event type to the event a handler of that type receives. */
export interface KeplarsEventMap {
  'email.queued': EmailQueuedEvent;
  'email.sent': EmailSentEvent;
  'email.delivered': EmailDeliveredEvent;
  'email.opened': EmailOpenedEvent;
  'email.clicked': EmailClickedEvent;
  'email.bounced': EmailBouncedEvent;
  'email.failed': EmailFailedEvent;
  'email.scheduled': EmailScheduledEvent;
  'email.cancelled': EmailCancelledEvent;
  'email.complained': EmailComplainedEvent;
}

export type KnownKeplarsEvent = KeplarsEventMap[KeplarsEventType];

/** An event of a type this version of the module does not know yet; only wildcard handlers get it. */
export type UnknownKeplarsEvent = KeplarsEventBase<string>;

/** Any event a wildcard handler can receive. Narrow it with `event.type === 'email.bounced'`. */
export type KeplarsEvent = KnownKeplarsEvent | UnknownKeplarsEvent;

/** What `@OnKeplarsEvent()` accepts: a known type, or a wildcard for every event. */
export type KeplarsEventPattern = KeplarsEventType | '*' | 'email.*';

/**
 * The event a handler of pattern `P` receives: `KeplarsEventFor<'email.bounced'>` is
 * {@link EmailBouncedEvent}; a wildcard gets any {@link KeplarsEvent}.
 */
export type KeplarsEventFor<P extends string> = [P] extends [KeplarsEventType] ? KeplarsEventMap[P] : KeplarsEvent;
