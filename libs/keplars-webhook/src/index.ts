/**
 * A NestJS module that receives Keplars email webhooks: signature-verified, validated, deduplicated,
 * routed to your `@OnKeplarsEvent()` handlers. Start with {@link KeplarsWebhookModule} and
 * {@link OnKeplarsEvent}; test helpers live in `nestjs-keplars-webhook/testing`.
 *
 * @module nestjs-keplars-webhook
 */
// The public face of the module: what an app imports, and nothing else.
export { KeplarsWebhookModule } from './nest/module/keplars-webhook.module.js';
export type {
  KeplarsDeduplicationOptions,
  KeplarsQueueOptions,
  KeplarsQueueRole,
  KeplarsPGliteStoreOptions,
  KeplarsPostgresStoreOptions,
  KeplarsRedisStoreOptions,
  KeplarsResolvedSecret,
  KeplarsSqlStoreSettings,
  KeplarsSecretResolver,
  KeplarsTenantOptions,
  KeplarsTimestampOptions,
  KeplarsWebhookOptions,
  KeplarsWebhookRouteOptions,
  KeplarsLedgerOptions,
  KeplarsSuppressionOptions,
} from './nest/options/keplars-webhook.options.js';
export { KeplarsConfigurationError } from './core/support/configuration-error.js';

// Queue mode (SPEC §4a): the queue's name and injection token, and the dead letters.
export { KEPLARS_QUEUE, KEPLARS_QUEUE_NAME, type KeplarsQueueRedisClient } from './adapters/bullmq-queue/keplars-queue.options.js';
export { KeplarsDeadLetters, type KeplarsDeadLetter, type KeplarsDeadLetterDetails } from './adapters/bullmq-queue/keplars-dead-letters.js';
// Queue mode's dashboard (bull-board), behind your authentication; its failed jobs are the dead letters.
export { KeplarsDashboardModule } from './nest/dashboard/keplars-dashboard.module.js';
export type { KeplarsDashboardAuthHook, KeplarsDashboardBasicAuth, KeplarsDashboardOptions } from './nest/dashboard/keplars-dashboard.options.js';
export type { QueuedDelivery as KeplarsQueuedDelivery, QueuedHandlerFailure as KeplarsHandlerFailure } from './core/ports/queued-delivery.js';

export {
  OnKeplarsEvent,
  type KeplarsEventFilter,
  type KeplarsTransactionalHandlerOptions,
  type KeplarsTransactionShapes,
  type KeplarsTransactionParameterCheck,
  type KeplarsTransactionParameterMismatch,
  type KeplarsPgTransactionShape,
  type KeplarsTypeOrmTransactionShape,
  type KeplarsPGliteTransactionShape,
} from './nest/handlers/on-keplars-event.decorator.js';
export type { KeplarsTransactionKind } from './core/0-event/keplars-event-handler.js';
export { KEPLARS_EVENT_TYPES } from './core/0-event/keplars-event.js';
export type {
  EmailBouncedEvent,
  EmailCancelledEvent,
  EmailClickedEvent,
  EmailComplainedEvent,
  EmailDeliveredEvent,
  EmailFailedEvent,
  EmailOpenedEvent,
  EmailQueuedEvent,
  EmailScheduledEvent,
  EmailSentEvent,
  KeplarsEvent,
  KeplarsEventBase,
  KeplarsEventFor,
  KeplarsEventMap,
  KeplarsEventPattern,
  KeplarsEventType,
  KnownKeplarsEvent,
  UnknownKeplarsEvent,
} from './core/0-event/keplars-event.js';

export {
  verifyKeplarsSignature,
  signKeplarsPayload,
  type SignatureInput as KeplarsSignatureInput,
  type SignatureRejection as KeplarsSignatureRejection,
} from './core/1-verify/keplars-signature.js';
export { KeplarsSignatureGuard } from './nest/http/keplars-signature.guard.js';
export type { KeplarsWebhookAnswer } from './core/5-answer/answer-delivery.js';

export type { EventClaim, KeplarsIdempotencyStore } from './core/ports/idempotency-store.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './adapters/memory-store/memory-idempotency.store.js';
export { RedisIdempotencyStore, type KeplarsRedisClient, type RedisIdempotencyStoreOptions } from './adapters/redis-store/redis-idempotency.store.js';
// The Postgres store (SPEC §4b): the module builds it from deduplication.store { postgres } or { pglite };
// these are the shapes it accepts there.
export type { KeplarsPgPool, KeplarsPgClient, KeplarsPgQuery, KeplarsPgResult } from './adapters/postgres-store/pg-pool-connection.js';
export type { KeplarsTypeOrmDataSource, KeplarsTypeOrmEntityManager, KeplarsTypeOrmQueryRunner, KeplarsTypeOrmResult, KeplarsTypeOrmOptions } from './adapters/postgres-store/typeorm-connection.js';
export type { KeplarsPGlite, KeplarsPGliteSession, KeplarsPGliteResult } from './adapters/postgres-store/pglite-connection.js';

export { KeplarsHealthIndicator, type KeplarsHealthResult } from './nest/health/keplars-health.indicator.js';
export type { KeplarsHealthThresholds } from './core/ports/health-probe.js';

// The email ledger and suppression list (SPEC §8): ledger: true in the options, then inject KeplarsEmailLedger.
export { KeplarsEmailLedger, type KeplarsLedgerScope, type KeplarsPageOptions, type KeplarsManualChange } from './nest/ledger/keplars-email-ledger.js';
export { OnAddressSuppressed, type OnAddressSuppressedOptions, type KeplarsSuppressionHandlerDecorator } from './nest/ledger/on-address-suppressed.decorator.js';
export { KeplarsAddressError, type AddressStanding as KeplarsAddressStanding, type AddressSuppressedNotice as KeplarsAddressSuppressed } from './core/email-ledger/email-ledger.js';
export { KeplarsCursorError, KeplarsLedgerInputError } from './core/email-ledger/ledger-cursor.js';
export { EMAIL_STATUSES as KEPLARS_EMAIL_STATUSES, type EmailStatus as KeplarsEmailStatus } from './core/email-ledger/email-status.js';
export type { SuppressionReason as KeplarsSuppressionReason } from './core/email-ledger/suppression-policy.js';
export type { TimelineDetails as KeplarsTimelineDetails } from './core/email-ledger/ledger-entry.js';
export type {
  ActiveSuppression as KeplarsActiveSuppression,
  EmailEngagement as KeplarsEmailEngagement,
  EmailTimelineEvent as KeplarsTimelineEvent,
  LedgerEmail as KeplarsLedgerEmail,
  LedgerEmailWithTimeline as KeplarsLedgerEmailWithTimeline,
  LedgerPage as KeplarsLedgerPage,
  StoredSuppression as KeplarsSuppression,
  SuppressionChange as KeplarsSuppressionChange,
} from './core/email-ledger/email-ledger-store.js';
