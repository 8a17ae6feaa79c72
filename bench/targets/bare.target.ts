import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { WEBHOOK_PATH } from '../bench-config.js';

// The ceiling: a Nest route on an app created with `rawBody: true` (so the body is parsed and its raw
// bytes kept, as for the other targets) that checks nothing.

@Controller()
class BareWebhookController {
  @Post(WEBHOOK_PATH)
  @HttpCode(200)
  receive(): { received: true } {
    return { received: true };
  }
}

@Module({ controllers: [BareWebhookController] })
export class BareAppModule {}
