import { Injectable, Logger } from '@nestjs/common';
import { OnAddressSuppressed, type KeplarsAddressSuppressed } from 'nestjs-keplars-webhook';

/**
 * Where an app tells its CRM that a contact can no longer be emailed. The module calls it once per
 * address a Keplars event put on the suppression list (retried until it succeeds once); the sample
 * only logs.
 */
@Injectable()
export class CrmSync {
  private readonly logger = new Logger(CrmSync.name);

  @OnAddressSuppressed()
  markUnreachable(notice: KeplarsAddressSuppressed): void {
    this.logger.log(`CRM: ${notice.address} marked unreachable (${notice.reason}, after event ${notice.eventId} of email ${notice.emailId ?? 'unknown'})`);
  }
}
