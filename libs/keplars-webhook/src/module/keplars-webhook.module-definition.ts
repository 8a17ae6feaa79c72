import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createKeplarsWebhookController } from '../1-receive/keplars-webhook.controller.js';
import type { KeplarsWebhookOptions, KeplarsWebhookRouteOptions } from './keplars-webhook.options.js';
import { DEFAULT_WEBHOOK_PATH, resolveRoute } from './resolve-keplars-options.js';

/**
 * `forRoot()` / `forRootAsync()` as Nest's own dynamic modules build them. The route options are
 * "extras": known when the module is imported, since they shape the controller.
 */
export const {
  ConfigurableModuleClass: KeplarsWebhookConfigurableModule,
  MODULE_OPTIONS_TOKEN: KEPLARS_MODULE_OPTIONS,
  OPTIONS_TYPE: KEPLARS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KEPLARS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KeplarsWebhookOptions>({ moduleName: 'KeplarsWebhook' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createKeplarsWebhookOptions')
  .setExtras<KeplarsWebhookRouteOptions>({ path: DEFAULT_WEBHOOK_PATH, routeDecorators: [] }, (definition, route) => ({
    ...definition,
    controllers: [...(definition.controllers ?? []), createKeplarsWebhookController(resolveRoute(route))],
  }))
  .build();
