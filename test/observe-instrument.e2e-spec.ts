import { jest } from '@jest/globals';
import { describeUnderObserve } from './support/observe-starter-app.js';

// SPEC §6, as a new NestJS 12 app runs: @nestjs/observe wired in by the starter, and no
// @opentelemetry/api installed. It is installed in this repository, so it is made unfindable here, the
// way Node reports a package that is not there (the module imports it only when the app starts).
jest.unstable_mockModule('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find package '@opentelemetry/api' imported from nestjs-keplars-webhook"), { code: 'ERR_MODULE_NOT_FOUND' });
});

it('@opentelemetry/api is not to be found in this suite', async () => {
  await expect(import('@opentelemetry/api')).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
});

describeUnderObserve('without @opentelemetry/api');
