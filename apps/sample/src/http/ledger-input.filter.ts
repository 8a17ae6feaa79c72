import { BadRequestException, Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { KeplarsAddressError, KeplarsCursorError } from 'nestjs-keplars-webhook';

/**
 * The ledger refuses a string that is not an address, or a cursor it never handed out, with a message
 * that says what to send instead: the client's mistake, so a 400 with that message (not a 500).
 */
@Catch(KeplarsAddressError, KeplarsCursorError)
export class LedgerInputFilter extends BaseExceptionFilter {
  override catch(error: KeplarsAddressError | KeplarsCursorError, host: ArgumentsHost): void {
    super.catch(new BadRequestException(error.message), host);
  }
}
