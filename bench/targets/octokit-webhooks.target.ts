import { Controller, HttpCode, Module, Post, Req, UnauthorizedException, type RawBodyRequest } from '@nestjs/common';
import { Webhooks } from '@octokit/webhooks';
import type { IncomingHttpHeaders } from 'node:http';
import { BENCH_SECRET, WEBHOOK_PATH } from '../bench-config.js';

// The peer: what a Nest user who does not pick this module would most likely write instead, a route
// wrapping a well-known library's verify-and-dispatch. `@octokit/webhooks`' `verifyAndReceive` takes
// `sha256=<hex>` HMAC-SHA256 over the raw payload (Keplars' scheme), parses it and calls its `on(...)`
// handlers: here one no-op handler. It verifies and dispatches only: no validation, no normalisation,
// no deduplication. `module ÷ octokit-webhooks` is what a user sees when comparing the two.

type PeerRequest = RawBodyRequest<{ headers: IncomingHttpHeaders }>;

@Controller()
class OctokitWebhooksController {
  private readonly webhooks = new Webhooks({ secret: BENCH_SECRET });

  constructor() {
    this.webhooks.on('ping', () => undefined);
  }

  @Post(WEBHOOK_PATH)
  @HttpCode(200)
  async receive(@Req() request: PeerRequest): Promise<{ received: true }> {
    const signature = request.headers['x-keplars-signature'];
    if (typeof signature !== 'string' || request.rawBody === undefined) throw new UnauthorizedException();
    try {
      await this.webhooks.verifyAndReceive({
        id: 'keplars',
        name: 'ping',
        signature: signature.startsWith('sha256=') ? signature : `sha256=${signature}`,
        payload: request.rawBody.toString('utf8'),
      });
    } catch {
      throw new UnauthorizedException();
    }
    return { received: true };
  }
}

@Module({ controllers: [OctokitWebhooksController] })
export class OctokitWebhooksAppModule {}
