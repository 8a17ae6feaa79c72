import {
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type RawBodyRequest,
} from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BENCH_SECRET, WEBHOOK_PATH } from '../bench-config.js';

// A reference, not a contender: the `bare` route behind the HMAC guard of `handwritten`, and nothing
// else. Any receiver that checks Keplars' signature pays at least this; the gap between it and
// `module` is what validation, normalisation, deduplication and dispatch cost.

/** The signature check a user writes from Keplars' docs; `handwritten` uses it too. */
@Injectable()
export class KeplarsHmacGuard implements CanActivate {
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

@Controller()
class HmacGuardedController {
  @Post(WEBHOOK_PATH)
  @HttpCode(200)
  @UseGuards(KeplarsHmacGuard)
  receive(): { received: true } {
    return { received: true };
  }
}

@Module({ controllers: [HmacGuardedController], providers: [KeplarsHmacGuard] })
export class HmacGuardAppModule {}
