import { parseWebhookJson, refusedJsonReason, UnreadableJsonBody } from './unreadable-json-body.js';

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

describe('refusedJsonReason: why a stricter parser refused a body', () => {
  it('is JSON.parse\'s message for a body that is not JSON', () => {
    expect(refusedJsonReason(Buffer.from('{')).reason).toMatch(/^the body is not valid JSON: /);
  });

  it('names the forbidden key for JSON that parses', () => {
    expect(refusedJsonReason(Buffer.from('{"__proto__":{"x":1}}')).reason).toMatch(/"__proto__".*onProtoPoisoning/);
  });
});
