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
 * Express's parser skipped it. A `"__proto__"` key, or a `"constructor"` key holding a `"prototype"`
 * one, makes the body unreadable (as Fastify's parser does by default): handed to code that merges
 * objects, such keys reach prototypes. The receiver on both adapters and the queue's worker read a
 * body with this one function, so they never disagree about one.
 */
export function parseWebhookJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return new UnreadableJsonBody('the body is empty');
  let text = rawBody.toString('utf8');
  if (text.charCodeAt(0) === BYTE_ORDER_MARK) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    return new UnreadableJsonBody(notJsonReason(error));
  }
  // A key is spelt out in the text, or escaped (\u…): only then can one be there to look for.
  if (text.includes('__proto__') || text.includes('prototype') || text.includes('\\u')) {
    const key = poisonedKeyIn(parsed);
    if (key !== undefined) return new UnreadableJsonBody(`the body has a ${key} key, which the module refuses (it could reach an object's prototype)`);
  }
  return parsed;
}

/** The first `"__proto__"` or `"constructor.prototype"` key in a parsed body, if any (iteratively: nesting is bounded later). */
function poisonedKeyIn(value: unknown): string | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Object.hasOwn(next, '__proto__')) return '"__proto__"';
    const constructor = (next as Record<string, unknown>).constructor;
    if (Object.hasOwn(next, 'constructor') && typeof constructor === 'object' && constructor !== null && Object.hasOwn(constructor, 'prototype')) {
      return '"constructor.prototype"';
    }
    for (const key in next) pending.push((next as Record<string, unknown>)[key]);
  }
  return undefined;
}
