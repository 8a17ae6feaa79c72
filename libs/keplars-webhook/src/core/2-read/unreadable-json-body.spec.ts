import { parseWebhookJson, UnreadableJsonBody } from './unreadable-json-body.js';

describe('parseWebhookJson', () => {
  it('parses any JSON value; validation decides what a payload is', () => {
    expect(parseWebhookJson(Buffer.from('{"type":"email.opened"}'))).toEqual({ type: 'email.opened' });
    expect(parseWebhookJson(Buffer.from('"email.opened"'))).toBe('email.opened');
    expect(parseWebhookJson(Buffer.from('42'))).toBe(42);
  });

  it('skips a UTF-8 byte order mark, as Express did', () => {
    expect(parseWebhookJson(Buffer.from('\uFEFF{"a":1}'))).toEqual({ a: 1 });
  });

  it("says why a body is not JSON, in JSON.parse's words", () => {
    const parsed = parseWebhookJson(Buffer.from('{"type": "email.opened",'));
    expect(parsed).toBeInstanceOf(UnreadableJsonBody);
    expect((parsed as UnreadableJsonBody).reason).toMatch(/^the body is not valid JSON: .*position/);
    expect(parseWebhookJson(Buffer.alloc(0))).toEqual(new UnreadableJsonBody('the body is empty'));
  });
});

describe('parseWebhookJson: a "__proto__" or "constructor.prototype" key (issue 23, point 4)', () => {
  // The receiver (Express and Fastify) and the queue's worker read a body with this one function, so
  // such a body is unreadable everywhere: 400 inline, quarantined in queue mode, never handled.
  it.each([
    ['a top-level "__proto__" key', '{"type":"email.opened","__proto__":{"admin":true}}', '"__proto__"'],
    ['a nested "__proto__" key', '{"type":"email.opened","data":{"list":[{"__proto__":null}]}}', '"__proto__"'],
    ['a "__proto__" key spelt with escapes', '{"type":"email.opened","\\u005f_pro\\u0074o__":{"admin":true}}', '"__proto__"'],
    ['a "constructor.prototype" key', '{"type":"email.opened","data":{"constructor":{"prototype":{"admin":true}}}}', '"constructor.prototype"'],
  ])('refuses %s, naming it', (_, body, key) => {
    const parsed = parseWebhookJson(Buffer.from(body));
    expect(parsed).toBeInstanceOf(UnreadableJsonBody);
    expect((parsed as UnreadableJsonBody).reason).toContain(key);
  });

  it('reads the words themselves in values, and a "constructor" key without "prototype"', () => {
    expect(parseWebhookJson(Buffer.from('{"subject":"__proto__ constructor prototype","data":{"constructor":"x"}}'))).toEqual({
      subject: '__proto__ constructor prototype',
      data: { constructor: 'x' },
    });
  });
});
