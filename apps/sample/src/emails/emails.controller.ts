import { Controller, Get, NotFoundException, Param, Query, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { KeplarsEmailLedger, type KeplarsLedgerEmail, type KeplarsLedgerEmailWithTimeline, type KeplarsLedgerPage } from 'nestjs-keplars-webhook';
import { LedgerInputFilter } from '../http/ledger-input.filter.js';
import { PageQuery } from '../http/page.query.js';

/** Each email's status, engagement and timeline, as the webhook module's ledger keeps them from Keplars' events. */
@Controller('emails')
@UseFilters(LedgerInputFilter)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true }))
export class EmailsController {
  constructor(private readonly ledger: KeplarsEmailLedger) {}

  /** The emails with the most recent events first: `{ items, next }`; pass `next` as `cursor` for older ones. */
  @Get()
  list(@Query() { limit, cursor }: PageQuery): Promise<KeplarsLedgerPage<KeplarsLedgerEmail>> {
    return this.ledger.emails({ limit, cursor });
  }

  @Get(':emailId')
  async find(@Param('emailId') emailId: string): Promise<KeplarsLedgerEmailWithTimeline> {
    const email = await this.ledger.email(emailId);
    if (!email) {
      throw new NotFoundException(`No Keplars event has been received for email "${emailId}". Check the id: it is the email_id Keplars gave when the email was sent.`);
    }
    return email;
  }
}
