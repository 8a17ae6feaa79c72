import { plainToInstance } from 'class-transformer';
import { UnreadableJsonBody } from './unreadable-json-body.js';
import { validateSync, type ValidationError } from 'class-validator';
import { compileFastCheck } from './compile-fast-check.js';
import { KeplarsPayloadDto } from './keplars-payload.dto.js';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from './nesting-depth.js';

/** A body that passed {@link KeplarsPayloadDto}'s rules; still the plain object that was received. */
export type KeplarsPayload = KeplarsPayloadDto & Record<string, unknown>;

export type PayloadValidation =
  | { readonly valid: true; readonly payload: KeplarsPayload }
  | { readonly valid: false; readonly messages: readonly string[] };

const fastCheck = compileFastCheck(KeplarsPayloadDto);

/**
 * Validates a parsed webhook body against {@link KeplarsPayloadDto}. Valid bodies are accepted by the
 * compiled fast check; anything else goes through class-transformer and class-validator, which decide
 * and explain, in messages like `ValidationPipe`'s (`"data.email_id must be a string"`).
 */
export function validateKeplarsPayload(body: unknown): PayloadValidation {
  if (body instanceof UnreadableJsonBody) return { valid: false, messages: [body.reason] }; // not JSON at all
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { valid: false, messages: ['the body must be a JSON object'] };
  }
  const plain = body as Record<string, unknown>;
  if (nestsDeeperThan(plain, MAX_NESTING_DEPTH)) {
    return { valid: false, messages: [`the body must not nest objects or arrays more than ${MAX_NESTING_DEPTH} levels deep`] };
  }
  if (fastCheck?.(plain)) return { valid: true, payload: plain as KeplarsPayload };

  const errors = validateSync(plainToInstance(KeplarsPayloadDto, plain), { stopAtFirstError: true });
  if (errors.length === 0) return { valid: true, payload: plain as KeplarsPayload };
  return { valid: false, messages: [...new Set(flattenMessages(errors))] };
}

function flattenMessages(errors: readonly ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const own = Object.values(error.constraints ?? {}).map((message) => (path ? `${path}.${message}` : message));
    return [...own, ...flattenMessages(error.children ?? [], path ? `${path}.${error.property}` : error.property)];
  });
}
