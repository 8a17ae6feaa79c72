import { describeUnderObserve } from './support/observe-starter-app.js';

// SPEC §6: the same starter wiring with @opentelemetry/api installed (the module then measures and
// traces through it, and its telemetry is a provider Observe wraps like any other).
it('@opentelemetry/api is installed in this suite', async () => {
  await expect(import('@opentelemetry/api')).resolves.toHaveProperty('metrics');
});

describeUnderObserve('with @opentelemetry/api');
