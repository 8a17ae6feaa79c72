import { SetMetadata } from '@nestjs/common';
import type { AddressSuppressedNotice } from '../../core/email-ledger/email-ledger.js';

export const KEPLARS_SUPPRESSION_HANDLER = 'keplars-webhook:suppression-handler';

/** Which endpoints' suppressions a handler takes (all with a ledger when left out). */
export interface OnAddressSuppressedOptions {
  /** The endpoints (module imports, by `name`) whose suppressions it takes. */
  endpoint?: string | readonly string[];
}

/**
 * What `@OnAddressSuppressed()` returns: a method decorator that accepts only a method taking a
 * {@link AddressSuppressedNotice}.
 * @typeParam T the decorated method's type.
 */
export type KeplarsSuppressionHandlerDecorator = <T extends (notice: AddressSuppressedNotice) => Promise<unknown> | unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;

/**
 * Runs the method once for each address a Keplars event puts on the suppression list (a hard bounce,
 * a complaint, the soft bounce that reached the threshold), after the ledger recorded it: to update a
 * CRM, say. It is marked like any handler: it runs again on a retry until it succeeds once, and never
 * after. Addresses suppressed by `KeplarsEmailLedger.suppress()` are not reported: your app made that
 * change itself.
 *
 * @example
 * ```ts
 * @OnAddressSuppressed()
 * async unsubscribe(notice: KeplarsAddressSuppressed) {
 *   await this.crm.markUnreachable(notice.address, notice.reason);
 * }
 * ```
 */
export function OnAddressSuppressed(options: OnAddressSuppressedOptions = {}): KeplarsSuppressionHandlerDecorator {
  return SetMetadata(KEPLARS_SUPPRESSION_HANDLER, options) as never;
}
