/** The schema the store's tables live in, unless `schema` says otherwise. */
export const DEFAULT_POSTGRES_SCHEMA = 'keplars_webhook';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Whether `name` is a schema name the store can use as it is (lower case, no quoting needed). */
export function isPlainIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** The store's tables, qualified by their schema (a checked identifier: see {@link isPlainIdentifier}). */
export interface PostgresTables {
  readonly schema: string;
  /** One row per event: its delivery's lock, the handlers that succeeded, whether all did. */
  readonly events: string;
  /** One row per transactional handler's success: unique, so two deliveries cannot both commit one. */
  readonly effects: string;
  /** The migrations applied, by version. */
  readonly migrations: string;
  /** The email ledger (SPEC §8): one row per email, with its status and counters. */
  readonly emails: string;
  /** Each email's timeline: one row per distinct event. */
  readonly emailEvents: string;
  /** One row per address the suppression list has seen: its (forgettable) address, its last reactivation. */
  readonly addresses: string;
  /** What suppresses an address: an event, the soft bounces that reached the threshold, or a `suppress()` call. */
  readonly suppressionCauses: string;
  /** Soft bounces by address, counted against the policy's threshold. */
  readonly softBounces: string;
  /** Every change to an address's place on the list, as it happened. */
  readonly suppressionChanges: string;
  /** The key of the list's address hashes (one row). */
  readonly ledgerKey: string;
}

export function postgresTables(schema: string): PostgresTables {
  // Named for this package even inside its own schema: `schema` may be one the app's tables share.
  return {
    schema,
    events: `${schema}.keplars_events`,
    effects: `${schema}.keplars_handler_marks`,
    migrations: `${schema}.keplars_migrations`,
    emails: `${schema}.keplars_emails`,
    emailEvents: `${schema}.keplars_email_events`,
    addresses: `${schema}.keplars_addresses`,
    suppressionCauses: `${schema}.keplars_suppression_causes`,
    softBounces: `${schema}.keplars_soft_bounces`,
    suppressionChanges: `${schema}.keplars_suppression_changes`,
    ledgerKey: `${schema}.keplars_ledger_key`,
  };
}
