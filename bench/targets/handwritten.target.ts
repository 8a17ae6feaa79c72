import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
  type CanActivate,
  type ExecutionContext,
  type RawBodyRequest,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BENCH_SECRET, WEBHOOK_PATH } from '../bench-config.js';

// What a user writes from Keplars' docs, without this module: an HMAC guard over `req.rawBody`,
// `ValidationPipe` with a class-validator DTO of the envelope payload, a `switch` on the type.

@Injectable()
class KeplarsHmacGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RawBodyRequest<{ headers: IncomingHttpHeaders }>>();
    const header = request.headers['x-keplars-signature'];
    if (typeof header !== 'string' || request.rawBody === undefined) throw new UnauthorizedException();
    const expected = createHmac('sha256', BENCH_SECRET).update(request.rawBody).digest();
    const received = Buffer.from(header.replace(/^sha256=/, ''), 'hex');
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) throw new UnauthorizedException();
    return true;
  }
}

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
