/**
 * What the webhook route gets as its body when the bytes it received are not JSON it can read. The
 * module reads its own route's body (`WebhookRouteBody`) so that such a body is not answered 400 by
 * the framework's parser before the signature is checked: the guard verifies the raw bytes as
 * always, then validation turns this into a readable 400, or, in queue mode, a quarantined delivery
 * (SPEC §3, §4a: nothing signed is dropped).
 */
export class UnreadableJsonBody {
  constructor(readonly reason: string) {}
}

const BYTE_ORDER_MARK = 0xfeff;

/** Why `text` is not JSON, as `JSON.parse` says it (a message with a position, for a person). */
export function notJsonReason(error: unknown): string {
  return `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Parses a webhook body as JSON, any JSON value (a bare string or number is refused later, by
 * validation, with its own message), or says why it cannot. A UTF-8 byte order mark is skipped, as
 * Express's parser skipped it.
 */
export function parseWebhookJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return new UnreadableJsonBody('the body is empty');
  let text = rawBody.toString('utf8');
  if (text.charCodeAt(0) === BYTE_ORDER_MARK) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new UnreadableJsonBody(notJsonReason(error));
  }
}

/**
 * Why a parser stricter than `JSON.parse` (Fastify's, which refuses `__proto__` keys by default)
 * refused a body: JSON's own message if it is not JSON at all, else the key it refused.
 */
export function refusedJsonReason(rawBody: Buffer): UnreadableJsonBody {
  const parsed = parseWebhookJson(rawBody);
  if (parsed instanceof UnreadableJsonBody) return parsed;
  return new UnreadableJsonBody(
    'the body has a "__proto__" or "constructor.prototype" key, which the app\'s Fastify options refuse (onProtoPoisoning, onConstructorPoisoning)',
  );
}
