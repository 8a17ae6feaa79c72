import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, Post, Query, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { IsDateString, IsOptional, IsString, MaxLength } from 'class-validator';
import { KeplarsEmailLedger, type KeplarsLedgerPage, type KeplarsSuppression } from 'nestjs-keplars-webhook';
import { LedgerInputFilter } from '../http/ledger-input.filter.js';
import { PageQuery } from '../http/page.query.js';

class SuppressBody {
  @IsString()
  address!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;

  /** Until when (ISO 8601); left out, until reactivated. */
  @IsOptional()
  @IsDateString()
  expiresAt?: string;
}

class ReactivateQuery {
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

/**
 * The suppression list the webhook module keeps from hard bounces, complaints and repeated soft
 * bounces, and the hand-made changes to it. Every change records who made it: here the `x-actor`
 * header (your app would take its signed-in user).
 */
@Controller('suppressions')
@UseFilters(LedgerInputFilter)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true }))
export class SuppressionsController {
  constructor(private readonly ledger: KeplarsEmailLedger) {}

  /** The suppressed addresses, most recent first: `{ items, next }`. */
  @Get()
  list(@Query() { limit, cursor }: PageQuery): Promise<KeplarsLedgerPage<KeplarsSuppression>> {
    return this.ledger.suppressions({ limit, cursor });
  }

  /** Whether the app may email the address now (and if not, why), and every change to its place on the list. */
  @Get(':address')
  async find(@Param('address') address: string) {
    const [standing, history] = await Promise.all([this.ledger.check(address), this.ledger.history(address)]);
    return { ...standing, history };
  }

  /** Suppresses an address by hand: someone asked by phone to get no more email, say. */
  @Post()
  async suppress(@Body() { address, note, expiresAt }: SuppressBody, @Headers('x-actor') actor?: string) {
    const changed = await this.ledger.suppress(address, { actor: actorOf(actor), note, ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}) });
    return { changed, ...(await this.ledger.check(address)) };
  }

  /** Lets the app email the address again (until a later bounce or complaint): 204, or 404 when it was not suppressed. */
  @Delete(':address')
  @HttpCode(204)
  async reactivate(@Param('address') address: string, @Query() { note }: ReactivateQuery, @Headers('x-actor') actor?: string): Promise<void> {
    if (!(await this.ledger.reactivate(address, { actor: actorOf(actor), note }))) {
      throw new NotFoundException(`${address} is not on the suppression list: there is nothing to reactivate.`);
    }
  }
}

function actorOf(header: string | undefined): string {
  return header?.trim() || 'sample-admin';
}
