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

/**
 * The name of an event type this version of the module knows, such as `'email.bounced'`: one of
 * {@link KEPLARS_EVENT_TYPES}. `@OnKeplarsEvent()` accepts these (and the wildcards), so a misspelled
 * type is a compile error.
 */
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

/**
 * What every event carries, whichever of Keplars' wire shapes it arrived in.
 * @typeParam TType the event's `type`: one literal for a known type, `string` for any.
 */
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
  /** The email's subject line (`subject`), when the payload carries it. */
  readonly subject: string | undefined;
  /** The Keplars workspace the email was sent from (`workspace_id`), when the payload carries it. */
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

/** `email.queued`: Keplars accepted the email and queued it for sending. */
export type EmailQueuedEvent = KeplarsEventBase<'email.queued'>;
/** `email.sent`: Keplars sent the email on its way; `email.delivered` or `email.bounced` tells how it ended. */
export type EmailSentEvent = KeplarsEventBase<'email.sent'>;
/** `email.delivered`: the recipient's mail server accepted the email. */
export type EmailDeliveredEvent = KeplarsEventBase<'email.delivered'>;
/**
 * `email.opened`: the recipient opened the email. It may arrive before its `email.delivered` (Keplars
 * does not keep events in order), and again for each open.
 */
export type EmailOpenedEvent = KeplarsEventBase<'email.opened'>;
/** `email.scheduled`: the email is scheduled to be sent later. */
export type EmailScheduledEvent = KeplarsEventBase<'email.scheduled'>;
/** `email.cancelled`: a queued or scheduled email was cancelled before it was sent. */
export type EmailCancelledEvent = KeplarsEventBase<'email.cancelled'>;
/** `email.complained`: the recipient marked the email as spam. */
export type EmailComplainedEvent = KeplarsEventBase<'email.complained'>;

/** `email.clicked`: the recipient clicked a link in the email; `url` says which. */
export interface EmailClickedEvent extends KeplarsEventBase<'email.clicked'> {
  /** The link that was clicked. */
  readonly url: string | undefined;
}

/** `email.bounced`: the recipient's mail server refused the email, permanently (`'hard'`) or for now (`'soft'`). */
export interface EmailBouncedEvent extends KeplarsEventBase<'email.bounced'> {
  /** Why it bounced, as the mail server said it (`bounce_reason`, or `reason`), e.g. `'mailbox full'`. */
  readonly bounceReason: string | undefined;
  /**
   * `'hard'` (permanent: stop sending) or `'soft'` (temporary), when Keplars says which
   * (`bounce_type` or `bounce_kind`; `permanent` reads as `'hard'`, `transient` and `temporary` as `'soft'`).
   */
  readonly bounceType: 'hard' | 'soft' | undefined;
}

/** `email.failed`: Keplars could not send the email; `failureReason` says why. */
export interface EmailFailedEvent extends KeplarsEventBase<'email.failed'> {
  /** Why sending failed (`error`, or `reason`). */
  readonly failureReason: string | undefined;
}

/**
 * Maps each known event type to the event a handler of that type receives: what
 * `@OnKeplarsEvent('email.bounced')` uses to type its method's parameter.
 *
 * @example
 * function describeBounce(event: KeplarsEventMap['email.bounced']) {
 *   return `${event.recipient}: ${event.bounceType ?? 'unknown'} bounce (${event.bounceReason ?? 'no reason given'})`;
 * }
 */
export interface KeplarsEventMap {
  /** Accepted and queued for sending. */
  'email.queued': EmailQueuedEvent;
  /** Sent on its way by Keplars. */
  'email.sent': EmailSentEvent;
  /** Accepted by the recipient's mail server. */
  'email.delivered': EmailDeliveredEvent;
  /** Opened by the recipient. */
  'email.opened': EmailOpenedEvent;
  /** A link in it was clicked; carries `url`. */
  'email.clicked': EmailClickedEvent;
  /** Refused by the recipient's mail server; carries `bounceReason` and `bounceType`. */
  'email.bounced': EmailBouncedEvent;
  /** Could not be sent; carries `failureReason`. */
  'email.failed': EmailFailedEvent;
  /** Scheduled to be sent later. */
  'email.scheduled': EmailScheduledEvent;
  /** Cancelled before it was sent. */
  'email.cancelled': EmailCancelledEvent;
  /** Marked as spam by the recipient. */
  'email.complained': EmailComplainedEvent;
}

/** An event of any type this version of the module knows: a union of the event types, told apart by `type`. */
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
 * @typeParam P a pattern as `@OnKeplarsEvent()` takes it: a known type, several (a union), or a wildcard.
 */
export type KeplarsEventFor<P extends string> = [P] extends [KeplarsEventType] ? KeplarsEventMap[P] : KeplarsEvent;
