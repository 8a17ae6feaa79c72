import { Controller, Get, Header, Query, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { IsOptional, IsString } from 'class-validator';
import { KeplarsEmailLedger } from 'nestjs-keplars-webhook';
import { LedgerInputFilter } from '../http/ledger-input.filter.js';
import { renderLedgerPage } from './ledger-page.html.js';

class LedgerPageQuery {
  /** The email whose timeline to show. */
  @IsOptional()
  @IsString()
  email?: string;

  /** Older emails: the `next` of the page before. */
  @IsOptional()
  @IsString()
  cursor?: string;
}

/**
 * `GET /`: a read-only page of what the ledger kept (recent emails with their status, one email's
 * timeline with `?email=<id>`, the suppression list), so that whoever tries the sample sees their
 * events land. No script runs on it, and it loads nothing else: the policy below says so to the browser.
 */
@Controller()
@UseFilters(LedgerInputFilter)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true }))
export class LedgerPageController {
  constructor(private readonly ledger: KeplarsEmailLedger) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
  async page(@Query() { email, cursor }: LedgerPageQuery): Promise<string> {
    const [emails, suppressions, selected] = await Promise.all([
      this.ledger.emails({ limit: 25, cursor }),
      this.ledger.suppressions({ limit: 50 }),
      email === undefined ? undefined : this.ledger.email(email),
    ]);
    return renderLedgerPage({ emails, cursor, suppressions, selected: email === undefined ? undefined : { emailId: email, email: selected } });
  }
}
