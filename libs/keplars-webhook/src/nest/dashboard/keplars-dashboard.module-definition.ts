import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { KeplarsDashboardOptions } from './keplars-dashboard.options.js';

/** `forRoot()` / `forRootAsync()` as Nest's own dynamic modules build them. */
export const {
  ConfigurableModuleClass: KeplarsDashboardConfigurableModule,
  MODULE_OPTIONS_TOKEN: KEPLARS_DASHBOARD_MODULE_OPTIONS,
  OPTIONS_TYPE: KEPLARS_DASHBOARD_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KEPLARS_DASHBOARD_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KeplarsDashboardOptions>({ moduleName: 'KeplarsDashboard' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createKeplarsDashboardOptions')
  .build();
