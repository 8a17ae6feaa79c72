import { Body, Controller, HttpCode, Injectable, Module, Post, UseGuards, ValidationPipe } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { WEBHOOK_PATH } from '../bench-config.js';
import { KeplarsHmacGuard } from './hmac-guard.target.js';

// What a user writes from Keplars' docs, without this module: an HMAC guard over `req.rawBody`,
// `ValidationPipe` with a class-validator DTO of the envelope payload, a `switch` on the type.


class EmailDataDto {
  @IsString() @IsNotEmpty() email_id!: string;
  @IsString() to!: string;
  @IsOptional() @IsString() subject?: string;
  @IsOptional() @IsString() status?: string;
  @IsOptional() @IsString() bounce_reason?: string;
  @IsOptional() @IsObject() metadata?: Record<string, unknown>;
}

class KeplarsWebhookDto {
  @IsString() @IsNotEmpty() id!: string;
  @IsString() type!: string;
  @IsISO8601() timestamp!: string;
  @IsObject() @ValidateNested() @Type(() => EmailDataDto) data!: EmailDataDto;
}

@Injectable()
class EmailEventsService {
  delivered(_data: EmailDataDto): void {}
  bounced(_data: EmailDataDto): void {}
  opened(_data: EmailDataDto): void {}
}

@Controller()
class KeplarsWebhookController {
  constructor(private readonly emails: EmailEventsService) {}

  @Post(WEBHOOK_PATH)
  @HttpCode(200)
  @UseGuards(KeplarsHmacGuard)
  receive(@Body(new ValidationPipe()) payload: KeplarsWebhookDto): { received: true } {
    switch (payload.type) {
      case 'email.delivered':
        this.emails.delivered(payload.data);
        break;
      case 'email.bounced':
        this.emails.bounced(payload.data);
        break;
      case 'email.opened':
        this.emails.opened(payload.data);
        break;
    }
    return { received: true };
  }
}

@Module({ controllers: [KeplarsWebhookController], providers: [EmailEventsService, KeplarsHmacGuard] })
export class HandwrittenAppModule {}
