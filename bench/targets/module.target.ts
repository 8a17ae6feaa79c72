import { Injectable, Module } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailDeliveredEvent } from '../../libs/keplars-webhook/src/index.js';
import { BENCH_SECRET } from '../bench-config.js';

// This module with its default options (memory deduplication on) and one no-op handler.

/** The one no-op handler of every `module…` target. */
@Injectable()
export class DeliveredHandler {
  @OnKeplarsEvent('email.delivered')
  onDelivered(_event: EmailDeliveredEvent): void {}
}

@Module({ imports: [KeplarsWebhookModule.forRoot(BENCH_SECRET)], providers: [DeliveredHandler] })
export class ModuleAppModule {}
