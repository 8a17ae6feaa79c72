// Test helpers for apps that use the module: `import { … } from 'nestjs-keplars-webhook/testing'`.
// Production code never loads this entry point.
export { buildKeplarsPayload, KEPLARS_WIRE_SHAPES, type KeplarsPayloadOverrides, type KeplarsWireShape } from './sample-payloads.js';
export { keplarsSignatureHeaders, type SignatureHeaderOptions } from './signing.js';
export { postKeplarsEvent, type KeplarsDeliveryResponse, type PostKeplarsEventOptions } from './post-keplars-event.js';
export { signKeplarsPayload } from '../2-verify/keplars-signature.js';
