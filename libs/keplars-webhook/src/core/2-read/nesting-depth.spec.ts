import { MAX_NESTING_DEPTH, nestsDeeperThan } from './nesting-depth.js';
import { validateKeplarsPayload } from './validate-keplars-payload.js';

const nested = (levels: number, inner: string): unknown => JSON.parse(`${'{"a":'.repeat(levels - 1)}${inner}${'}'.repeat(levels - 1)}`);
const arrays = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

describe('nestsDeeperThan', () => {
  it.each([
    ['a flat object', { a: 1, b: 'x' }, 1, false],
    ['an object one level too deep', { a: { b: {} } }, 2, true],
    ['exactly at the limit', nested(5, '{}'), 5, false],
    ['arrays one level past the limit', arrays(6), 5, true],
    ['a deep value in the second of two branches', { a: [1, 2], b: { c: { d: [[]] } } }, 4, true],
    ['a deep value under a "__proto__" key', JSON.parse('{"__proto__":{"a":{"b":{}}}}'), 3, true],
  ])('%s', (_, value, limit, expected) => {
    expect(nestsDeeperThan(value, limit)).toBe(expected);
  });

  it('answers for 50,000 levels without overflowing the stack', () => {
    expect(nestsDeeperThan(arrays(50_000), MAX_NESTING_DEPTH)).toBe(true);
  });
});

describe('validateKeplarsPayload on deeply nested bodies', () => {
  it.each([
    ['metadata thousands of levels deep (a valid shape otherwise)', { event: 'email.opened', email_id: 'e', metadata: { x: arrays(5_000) } }],
    ['a deep object without a type (the slow path)', nested(5_000, '1')],
    ['an invalid field beside deep metadata', { event: 'email.opened', email_id: 42, metadata: { x: arrays(5_000) } }],
  ])('refuses %s with a readable message instead of throwing', (_, body) => {
    expect(validateKeplarsPayload(body)).toEqual({ valid: false, messages: [`the body must not nest objects or arrays more than ${MAX_NESTING_DEPTH} levels deep`] });
  });

  it('accepts metadata nested within the limit', () => {
    const body = { id: 'evt_1', type: 'email.opened', data: { email_id: 'e', metadata: nested(MAX_NESTING_DEPTH - 3, '{}') } };
    expect(validateKeplarsPayload(body).valid).toBe(true);
  });
});
