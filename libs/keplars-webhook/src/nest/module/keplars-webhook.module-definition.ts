import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createKeplarsWebhookController } from '../http/keplars-webhook.controller.js';
import { DEFAULT_ENDPOINT } from '../../core/0-event/keplars-event.js';
import { KEPLARS_ROUTE } from '../options/keplars-webhook.constants.js';
import type { KeplarsWebhookOptions, KeplarsWebhookRouteOptions } from '../options/keplars-webhook.options.js';
import { DEFAULT_WEBHOOK_PATH, resolveRoute } from '../options/resolve-keplars-options.js';

/**
 * `forRoot()` / `forRootAsync()` as Nest's own dynamic modules build them. The route options are
 * "extras": known when the module is imported, since they shape the controller (and name the endpoint).
 */
export const {
  ConfigurableModuleClass: KeplarsWebhookConfigurableModule,
  MODULE_OPTIONS_TOKEN: KEPLARS_MODULE_OPTIONS,
  OPTIONS_TYPE: KEPLARS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KEPLARS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KeplarsWebhookOptions>({ moduleName: 'KeplarsWebhook' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createKeplarsWebhookOptions')
  .setExtras<KeplarsWebhookRouteOptions>({ name: DEFAULT_ENDPOINT, path: DEFAULT_WEBHOOK_PATH, routeDecorators: [] }, (definition, extras) => {
    const route = resolveRoute(extras);
    return {
      ...definition,
      providers: [...(definition.providers ?? []), { provide: KEPLARS_ROUTE, useValue: route }],
      controllers: [...(definition.controllers ?? []), createKeplarsWebhookController(route)],
    };
  })
  .build();
