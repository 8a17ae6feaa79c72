import { escapeControlCharacters, KeplarsLog } from './keplars-log.js';
import { RefusalLog } from './refusal-log.js';

/** A logger that keeps the lines (the module's own log, below Nest's). */
function capture() {
  const lines: string[] = [];
  const sink = { log: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug: (m: string) => lines.push(m) };
  return { lines, log: new KeplarsLog(sink) };
}

describe('escapeControlCharacters', () => {
  it.each([
    ['a newline', 'evt\nFORGED', 'evt\\nFORGED'],
    ['a carriage return and a tab', 'a\rb\tc', 'a\\rb\\tc'],
    ['ANSI colours', '\u001b[31mred\u001b[0m', '\\x1b[31mred\\x1b[0m'],
    ['NUL, DEL and a C1 control', '\u0000\u007f\u0085', '\\x00\\x7f\\x85'],
    ['the Unicode line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['plain text, accents and emoji', 'Grüße ☃ 東京', 'Grüße ☃ 東京'],
  ])('escapes %s', (_, text, escaped) => {
    expect(escapeControlCharacters(text)).toBe(escaped);
  });

  it('keeps the line breaks of a stack trace when asked, and escapes the rest', () => {
    expect(escapeControlCharacters('Error: x\u001b[2J\n    at handler', true)).toBe('Error: x\\x1b[2J\n    at handler');
  });
});

describe('RefusalLog', () => {
  it('writes the first refusals of a period, then one summary with counts by reason and addresses', () => {
    const { lines, log } = capture();
    let now = 0;
    const refusals = new RefusalLog(log, { verbatim: 3, periodMs: 10_000, now: () => now });
    for (let i = 0; i < 1_234; i++) refusals.refused(i % 2 ? 'with a bad signature (401)' : 'over maxBodyBytes (413)', `10.0.0.${i % 3}`, () => `line ${i}`);
    expect(lines).toEqual(['line 0', 'line 1', 'line 2']);
    now = 10_000;
    refusals.refused('with a bad signature (401)', '10.0.0.9', () => 'next period');
    expect(lines.slice(3)).toEqual([
      '1,231 more refused webhook requests in the last 10 s, not logged one by one: 616 with a bad signature (401), 615 over maxBodyBytes (413); from 3 addresses.',
      'next period',
    ]);
  });

  it('keeps a bounded number of addresses and reasons, however many a flood brings', () => {
    const { lines, log } = capture();
    const refusals = new RefusalLog(log, { verbatim: 0, now: () => 0 });
    for (let i = 0; i < 50_000; i++) refusals.refused(`reason ${i % 40}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, () => 'never');
    refusals.flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^50,000 more refused webhook requests .*other reasons.*; from more than 1,000 addresses\.$/);
    expect(lines[0]!.match(/reason \d+/g)).toHaveLength(16);
  });

  it('writes nothing when nothing was held back', () => {
    const { lines, log } = capture();
    const refusals = new RefusalLog(log, { verbatim: 5, now: () => 0 });
    refusals.refused('r', 'a', () => 'one');
    refusals.flush();
    expect(lines).toEqual(['one']);
  });
});
