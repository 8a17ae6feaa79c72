import * as api from '@opentelemetry/api';
import { createDeliveryTelemetry } from './create-delivery-telemetry.js';
import { NoTelemetry } from '../../core/ports/no-telemetry.js';
import { OpenTelemetryDeliveryTelemetry } from './opentelemetry-delivery-telemetry.js';
import { SignedDeliveryClock } from '../../core/1-verify/signed-delivery-clock.js';

// @opentelemetry/api is an optional peer: the module must start without it, and measure nothing then.
describe('createDeliveryTelemetry', () => {
  const notInstalled = () => Promise.reject(Object.assign(new Error("Cannot find package '@opentelemetry/api' imported from …"), { code: 'ERR_MODULE_NOT_FOUND' }));

  it('without @opentelemetry/api installed: no telemetry, handlers left as they are', async () => {
    const telemetry = await createDeliveryTelemetry(new SignedDeliveryClock(), notInstalled);
    expect(telemetry).toBeInstanceOf(NoTelemetry);
    const handler = { name: 'Mailer.onOpened', patterns: ['email.opened'], invoke: () => undefined };
    expect(telemetry.instrumentHandler(handler)).toBe(handler);
  });

  it('with it installed: OpenTelemetry telemetry (a no-op until an SDK is registered)', async () => {
    const telemetry = await createDeliveryTelemetry(new SignedDeliveryClock(), async () => api);
    expect(telemetry).toBeInstanceOf(OpenTelemetryDeliveryTelemetry);
  });

  it('a broken install is not mistaken for "not installed"', async () => {
    const broken = () => Promise.reject(new SyntaxError('Unexpected token in @opentelemetry/api/build/index.js'));
    await expect(createDeliveryTelemetry(new SignedDeliveryClock(), broken)).rejects.toThrow(SyntaxError);
  });

  it('another missing package is not mistaken for it', async () => {
    const other = () => Promise.reject(Object.assign(new Error("Cannot find package '@opentelemetry/core'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    await expect(createDeliveryTelemetry(new SignedDeliveryClock(), other)).rejects.toThrow('@opentelemetry/core');
  });
});
