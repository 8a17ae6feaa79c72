/**
 * Test helpers for apps that use the module: realistic Keplars payloads in every wire shape, their
 * signature headers, and a function that posts one, signed, to your Nest app under test. Production
 * code never loads this entry point.
 *
 * @example
 * import { buildKeplarsPayload, postKeplarsEvent } from 'nestjs-keplars-webhook/testing';
 *
 * const response = await postKeplarsEvent(app, buildKeplarsPayload('email.bounced', { bounceType: 'hard' }), { secret: 'whsec_test' });
 * expect(response.status).toBe(200);
 *
 * @module nestjs-keplars-webhook/testing
 */
export { buildKeplarsPayload, KEPLARS_WIRE_SHAPES, type KeplarsPayloadOverrides, type KeplarsWireShape } from './sample-payloads.js';
export { keplarsSignatureHeaders, type SignatureHeaderOptions } from './signing.js';
export { postKeplarsEvent, type KeplarsDeliveryResponse, type PostKeplarsEventOptions } from './post-keplars-event.js';
export { signKeplarsPayload } from '../core/1-verify/keplars-signature.js';
