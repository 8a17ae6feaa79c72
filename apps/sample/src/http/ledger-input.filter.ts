import { BadRequestException, Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { KeplarsLedgerInputError } from 'nestjs-keplars-webhook';

/**
 * The ledger refuses a string that is not an address, a cursor it never handed out or a page size out
 * of range, with a message that says what to send instead: the client's mistake, so a 400 with that
 * message (not a 500).
 */
@Catch(KeplarsLedgerInputError)
export class LedgerInputFilter extends BaseExceptionFilter {
  override catch(error: KeplarsLedgerInputError, host: ArgumentsHost): void {
    super.catch(new BadRequestException(error.message), host);
  }
}
