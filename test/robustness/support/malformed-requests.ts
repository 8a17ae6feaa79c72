import { KEPLARS_EVENT_TYPES } from 'nestjs-keplars-webhook';
import { buildKeplarsPayload, KEPLARS_WIRE_SHAPES, signKeplarsPayload } from 'nestjs-keplars-webhook/testing';
import { pick, seededRandom } from '../../support/seeded-random.js';
import { chunkedBody, requestHead, type RawRequest } from './raw-exchange.js';

/**
 * What a malformed request must get (SPEC §3), decided when it is generated:
 * - `rejected`: it is not correctly signed (or not acceptable as sent): a 4xx (one of `statuses` when
 *   given), and no handler runs;
 * - `handled`: correctly signed, a valid event of its own: 200 `{"received":true}`, its handlers run once;
 * - `signed`: correctly signed over arbitrary content: a 4xx (no handler runs), or 200, where a handler
 *   runs for exactly this body unless the answer says it is a duplicate.
 */
export type Expectation =
  | { readonly kind: 'rejected'; readonly statuses?: readonly number[] }
  | { readonly kind: 'handled' }
  | { readonly kind: 'signed' };

export interface MalformedCase {
  readonly index: number;
  /** The generator that made it, e.g. `body: bit flip`. */
  readonly family: string;
  /** What was done to the request, enough to understand a failure without replaying it. */
  readonly description: string;
  readonly request: RawRequest;
  readonly expect: Expectation;
  /** A close without an answer is acceptable (broken framing, truncated or oversized bodies). */
  readonly mayClose: boolean;
  /**
   * For signed cases: the key a handler run of this body is recorded under (see {@link runKeyOf});
   * `undefined` when no handler may run for it. Computed on demand: only 200 answers need it.
   */
  runKey(): string | undefined;
}

/** A marker no real object has; the suite checks it never appears on `Object.prototype`. */
export const POLLUTION_MARKER = 'keplarsRobustnessPolluted';

/**
 * The key a handler run is recorded under, computed the same way from the parsed body the handler got
 * and from the bytes the test sent: its JSON, or, for bodies too deep to serialise, the email id.
 */
export function runKeyOf(body: unknown, emailId: unknown): string {
  try {
    return `json:${JSON.stringify(body)}`;
  } catch {
    return `deep:${String(emailId)}`;
  }
}

const WEBHOOK_PATH = '/webhooks/keplars';
const MODULE_LIMIT = 100 * 1024;
const EVENT_TYPES: readonly string[] = [...KEPLARS_EVENT_TYPES, 'email.deferred'];
const SUBJECTS = ['Welcome!', 'Your order #1042 is confirmed', 'Réinitialisez votre mot de passe', '注文確認', 'Invoice 🧾 March'];

type Random = () => number;

interface Context {
  readonly rng: Random;
  readonly secret: string;
  /** Unique per case: event ids and email ids are derived from it. */
  readonly tag: string;
}

/** What a family's generator returns; `generateCase` adds the index and the family name. */
interface Draft {
  readonly description: string;
  readonly request: RawRequest;
  readonly expect: Expectation;
  readonly mayClose?: boolean;
  /** The body whose handler run would count, for signed cases. */
  readonly signedBody?: Buffer;
  /** For bodies too deep to serialise: the email id they carry. */
  readonly emailId?: string;
  /** The body as text, when it is not UTF-8 (the charset its Content-Type names). */
  readonly decoded?: string;
}

interface Family {
  readonly name: string;
  readonly weight: number;
  readonly build: (context: Context) => Draft;
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

const int = (rng: Random, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const chance = (rng: Random, p: number): boolean => rng() < p;

function validPayload({ rng, tag }: Context): Record<string, unknown> {
  const type = pick(rng, EVENT_TYPES);
  return buildKeplarsPayload(type, {
    shape: pick(rng, KEPLARS_WIRE_SHAPES),
    id: `evt_${tag}`,
    emailId: `em_${tag}`,
    subject: pick(rng, SUBJECTS),
    timestamp: '2026-01-15T10:35:00Z',
    ...(chance(rng, 0.3) ? { metadata: { campaign: 'spring', user: tag } } : {}),
  });
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const signatureOf = (body: Buffer, secret: string): string => `sha256=${signKeplarsPayload(body, secret)}`;

/** The headers of an ordinary signed JSON post; `Connection: close` so every exchange ends with a close. */
function standardHeaders(body: Buffer, signature: string | undefined): [string, string][] {
  return [
    ['Host', '127.0.0.1'],
    ['Content-Type', 'application/json'],
    ['Content-Length', String(body.length)],
    ...(signature === undefined ? [] : [['X-Keplars-Signature', signature] as [string, string]]),
    ['Connection', 'close'],
  ];
}

function post(body: Buffer, signature: string | undefined, headers = standardHeaders(body, signature)): RawRequest {
  return { parts: [requestHead({ path: WEBHOOK_PATH, headers }), body] };
}

/** A request for a changed body, signed over exactly the bytes sent (`signed`) or over the body it was made from (`rejected`). */
function bodyCase(context: Context, description: string, body: Buffer, original: Buffer | undefined, signedOver: 'sent' | 'original'): Draft {
  // A change that changed nothing (removing a field that was not there) leaves the original signature valid.
  if (signedOver === 'sent' || original === undefined || body.equals(original)) {
    return { description: `${description}; signed over the bytes sent`, request: post(body, signatureOf(body, context.secret)), expect: { kind: 'signed' }, signedBody: body };
  }
  return { description: `${description}; signed over the body before it was changed`, request: post(body, signatureOf(original, context.secret)), expect: { kind: 'rejected' } };
}

const signedOver = (rng: Random, pSent = 0.5): 'sent' | 'original' => (chance(rng, pSent) ? 'sent' : 'original');

/** Replaces the JSON value at a path (`data.email_id`) with raw JSON text, or removes it. */
function withRawValue(payload: Record<string, unknown>, path: readonly string[], raw: string | undefined): Buffer {
  const copy = structuredClone(payload) as Record<string, any>;
  let target = copy;
  for (const key of path.slice(0, -1)) {
    if (target[key] === null || typeof target[key] !== 'object') target[key] = {};
    target = target[key];
  }
  const last = path.at(-1)!;
  const sentinel = '\u0000SENTINEL\u0000';
  if (raw === undefined) delete target[last];
  else target[last] = sentinel;
  return Buffer.from(JSON.stringify(copy).replace(JSON.stringify(sentinel), () => raw ?? ''));
}

/** Inserts raw JSON members (`"key":value`) right after the opening brace of an object body. */
function withLeadingMembers(body: Buffer, members: string): Buffer {
  const text = body.toString('utf8');
  return Buffer.from(`{${members}${text.length > 2 ? ',' : ''}${text.slice(1)}`);
}

/** Inserts raw JSON members right before the closing brace of an object body. */
function withTrailingMembers(body: Buffer, members: string): Buffer {
  const text = body.toString('utf8');
  return Buffer.from(`${text.slice(0, -1)},${members}}`);
}

function escapeForDescription(bytes: Buffer, max = 160): string {
  const text = bytes.subarray(0, max).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return bytes.length > max ? `${text}… (${bytes.length} bytes)` : text;
}

const WEIRD_VALUES = [
  'null', '0', '-0', '1e309', '-1e309', '123456789012345678901234567890', 'true', 'false', '[]', '{}', '[1,"a",null]', '""', '" "',
  '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', `"${'x'.repeat(300)}"`, '"2024-W03-1"', '"2024-13-45T99:99:99Z"', '"email..opened"',
  '"email.opened\\n"', '"__proto__"', '"constructor"', '"toString"', '"hasOwnProperty"', '"email.__proto__"', '"*"', '"email.*"',
  '{"__proto__":{"x":1}}', '[[[[[[[[]]]]]]]]', '"<script>alert(1)</script>"', '"${jndi:ldap://x}"', '"../../etc/passwd"',
];

const FIELD_PATHS: readonly (readonly string[])[] = [
  ['id'], ['type'], ['event'], ['timestamp'], ['data'], ['metadata'], ['subject'], ['to'], ['email_id'], ['url'], ['bounce_type'],
  ['data', 'email_id'], ['data', 'to'], ['data', 'recipient'], ['data', 'metadata'], ['data', 'timestamp'], ['data', 'bounce_reason'],
  ['data', 'url'], ['data', 'error'], ['data', 'status'], ['workspace_id'],
];

// ---------------------------------------------------------------------------------------------------
// The families: body mutations, signature mutations, header and framing mutations.

const FAMILIES: readonly Family[] = [
  {
    name: 'body: bit flip',
    weight: 8,
    build(context) {
      const { rng } = context;
      const original = json(validPayload(context));
      const body = Buffer.from(original);
      const flips: string[] = [];
      for (let n = int(rng, 1, 4); n > 0; n--) {
        const at = int(rng, 0, body.length - 1);
        const bit = int(rng, 0, 7);
        body[at]! ^= 1 << bit;
        flips.push(`${at}:${bit}`);
      }
      if (body.equals(original)) body[0]! ^= 1; // two flips of one bit cancel out
      return bodyCase(context, `bits flipped at ${flips.join(', ')}`, body, original, signedOver(rng));
    },
  },
  {
    name: 'body: bytes inserted',
    weight: 6,
    build(context) {
      const { rng } = context;
      const original = json(validPayload(context));
      let body = original;
      const inserted: string[] = [];
      for (let n = int(rng, 1, 3); n > 0; n--) {
        const at = int(rng, 0, body.length);
        const byte = pick(rng, [int(rng, 0, 255), 0x7b, 0x7d, 0x22, 0x5c, 0x2c, 0x00, 0xff, 0x3a]);
        body = Buffer.concat([body.subarray(0, at), Buffer.from([byte]), body.subarray(at)]);
        inserted.push(`0x${byte.toString(16)}@${at}`);
      }
      return bodyCase(context, `bytes inserted ${inserted.join(', ')}`, body, original, signedOver(rng));
    },
  },
  {
    name: 'body: bytes deleted',
    weight: 6,
    build(context) {
      const { rng } = context;
      const original = json(validPayload(context));
      let body = original;
      const deleted: number[] = [];
      for (let n = int(rng, 1, 3); n > 0; n--) {
        const at = int(rng, 0, body.length - 1);
        body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
        deleted.push(at);
      }
      return bodyCase(context, `bytes deleted at ${deleted.join(', ')}`, body, original, signedOver(rng));
    },
  },
  {
    name: 'body: truncated',
    weight: 6,
    build(context) {
      const { rng } = context;
      const original = json(validPayload(context));
      const at = int(rng, 0, original.length - 1);
      return bodyCase(context, `truncated to ${at} of ${original.length} bytes (Content-Length says ${at})`, original.subarray(0, at), original, signedOver(rng));
    },
  },
  {
    name: 'body: duplicated keys',
    weight: 4,
    build(context) {
      const { rng, tag } = context;
      const original = json(validPayload(context));
      const key = pick(rng, ['id', 'type', 'event', 'data', 'email_id', 'timestamp', 'metadata', '__proto__', 'constructor']);
      const value = pick(rng, ['"evt_other"', '"email.opened"', '"email.bounced"', `{"email_id":"em_${tag}_dup"}`, '42', 'null', '{}', '[]', `"${tag}"`]);
      const first = chance(rng, 0.5);
      const body = first ? withLeadingMembers(original, `"${key}":${value}`) : withTrailingMembers(original, `"${key}":${value}`);
      return bodyCase(context, `key "${key}" repeated ${first ? 'before' : 'after'} the original, with ${value}`, body, original, signedOver(rng, 0.8));
    },
  },
  {
    name: 'body: huge string',
    weight: 4,
    build(context) {
      const { rng } = context;
      const payload = validPayload(context);
      const length = int(rng, 1_000, 95_000);
      const alphabet = pick(rng, ['a', 'é', '\\u0000', '\\"', '🧾', ' ']);
      const path = pick(rng, [['subject'], ['data', 'subject'], ['notes'], ['data', 'metadata', 'blob'], ['id'], ['type']]);
      const repeated = alphabet.repeat(Math.ceil(length / Buffer.byteLength(alphabet)));
      const body = withRawValue(payload, path, `"${repeated}"`);
      const original = json(payload);
      const over = body.length > MODULE_LIMIT;
      const draft = bodyCase(context, `${path.join('.')} set to ${repeated.length} × ${JSON.stringify(alphabet)} (${body.length} bytes)`, body, original, signedOver(rng, 0.8));
      return over ? { ...draft, expect: { kind: 'rejected', statuses: [413] }, signedBody: undefined, mayClose: true } : draft;
    },
  },
  {
    name: 'body: deep nesting',
    weight: 5,
    build(context) {
      const { rng, tag, secret } = context;
      const depth = pick(rng, [1_000, 3_000, 10_000, 20_000, 45_000]);
      const arrays = chance(rng, 0.6);
      const maxDepth = arrays ? depth : Math.min(depth, 16_000);
      const deep = arrays ? `${'['.repeat(maxDepth)}${']'.repeat(maxDepth)}` : `${'{"a":'.repeat(maxDepth)}1${'}'.repeat(maxDepth)}`;
      const emailId = `em_${tag}`;
      const places = ['flat metadata', 'envelope data.metadata', 'event-data data.metadata', 'extra field', 'whole body', 'unbalanced'] as const;
      const place = pick(rng, places);
      const text: Record<(typeof places)[number], string> = {
        'flat metadata': `{"event":"email.opened","email_id":"${emailId}","metadata":{"x":${deep}}}`,
        'envelope data.metadata': `{"id":"evt_${tag}","type":"email.opened","data":{"email_id":"${emailId}","metadata":{"x":${deep}}}}`,
        'event-data data.metadata': `{"event":"email.clicked","data":{"email_id":"${emailId}","metadata":{"x":${deep}}}}`,
        'extra field': `{"event":"email.sent","email_id":"${emailId}","extra":${deep}}`,
        'whole body': deep,
        unbalanced: `{"event":"email.sent","email_id":"${emailId}","extra":${arrays ? '['.repeat(maxDepth) : '{"a":'.repeat(maxDepth)}}`,
      };
      const body = Buffer.from(text[place]);
      const description = `${maxDepth} levels of ${arrays ? 'arrays' : 'objects'} in ${place} (${body.length} bytes)`;
      if (chance(rng, 0.25)) {
        return { description: `${description}; signed with another secret`, request: post(body, signatureOf(body, `${secret}-old`)), expect: { kind: 'rejected' } };
      }
      return { description: `${description}; signed over the bytes sent`, request: post(body, signatureOf(body, secret)), expect: { kind: 'signed' }, signedBody: body, emailId };
    },
  },
  {
    name: 'body: prototype keys',
    weight: 6,
    build(context) {
      const { rng, tag } = context;
      const payload = validPayload(context);
      const poison = pick(rng, [
        `{"${POLLUTION_MARKER}":"yes"}`,
        `{"prototype":{"${POLLUTION_MARKER}":"yes"}}`,
        `{"constructor":{"prototype":{"${POLLUTION_MARKER}":"yes"}}}`,
        `{"__proto__":{"${POLLUTION_MARKER}":"yes"}}`,
        '"yes"',
        'null',
      ]);
      const key = pick(rng, ['__proto__', 'constructor', 'prototype']);
      const where = pick(rng, ['top level', 'data', 'metadata', 'data.metadata', 'as the event type', 'as the id']);
      let body: Buffer;
      if (where === 'top level') body = withLeadingMembers(json(payload), `"${key}":${poison}`);
      else if (where === 'as the event type') body = withRawValue(payload, [payload.type !== undefined ? 'type' : 'event'], `"${pick(rng, [key, 'email.__proto__', 'toString', 'hasOwnProperty', 'valueOf'])}"`);
      else if (where === 'as the id') body = withRawValue(payload, ['id'], `"${key}"`);
      else {
        const path = where.split('.');
        const copy = structuredClone(payload) as Record<string, any>;
        let target = copy;
        for (const part of path) target = target[part] ??= {};
        target[`${tag}_slot`] = 'slot';
        body = Buffer.from(JSON.stringify(copy).replace(`"${tag}_slot":"slot"`, `"${key}":${poison}`));
      }
      return bodyCase(context, `"${key}" ${where} with ${poison}`, body, json(payload), signedOver(rng, 0.85));
    },
  },
  {
    name: 'body: wrong types and values',
    weight: 6,
    build(context) {
      const { rng } = context;
      const payload = validPayload(context);
      if (chance(rng, 0.15)) {
        const body = Buffer.from(pick(rng, ['[]', '[{"type":"email.opened"}]', '"email.opened"', '42', 'null', 'true', '{}', '""', ' ', '{"data":{}}', '{"type":null}']));
        return bodyCase(context, `the whole body is ${JSON.stringify(body.toString())}`, body, undefined, 'sent');
      }
      const path = pick(rng, FIELD_PATHS);
      const raw = chance(rng, 0.1) ? undefined : pick(rng, WEIRD_VALUES);
      const body = withRawValue(payload, path, raw);
      return bodyCase(context, raw === undefined ? `${path.join('.')} removed` : `${path.join('.')} set to ${raw.slice(0, 40)}`, body, json(payload), signedOver(rng, 0.8));
    },
  },
  {
    name: 'body: encodings and stray bytes',
    weight: 3,
    build(context) {
      const { rng } = context;
      const original = json(validPayload(context));
      const text = original.toString('utf8');
      const subjectAt = text.indexOf('"subject":"') + '"subject":"'.length;
      const variants: [string, () => Buffer][] = [
        ['a UTF-8 byte order mark first', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), original])],
        ['invalid UTF-8 inside the subject', () => Buffer.concat([original.subarray(0, subjectAt), Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80]), original.subarray(subjectAt)])],
        ['a raw control character inside the subject', () => Buffer.concat([original.subarray(0, subjectAt), Buffer.from([int(rng, 0, 31)]), original.subarray(subjectAt)])],
        ['a NUL byte after the JSON', () => Buffer.concat([original, Buffer.from([0])])],
        ['trailing garbage after the JSON', () => Buffer.from(`${text}garbage`)],
        ['two JSON documents', () => Buffer.from(`${text}${text}`)],
        ['the body encoded as UTF-16LE', () => Buffer.from(text, 'utf16le')],
        ['lots of whitespace around the JSON', () => Buffer.from(`${' \n\t\r'.repeat(500)}${text}${'\n'.repeat(500)}`)],
        ['an empty body', () => Buffer.alloc(0)],
      ];
      const [what, make] = pick(rng, variants);
      return bodyCase(context, what, make(), original, signedOver(rng, 0.8));
    },
  },

  // --- Signatures: the body is a valid event of its own, so only the signature decides.
  ...signatureFamilies(),

  // --- Headers and framing, written by hand.
  {
    name: 'headers: two Content-Type headers',
    weight: 2,
    build(context) {
      const { rng, secret } = context;
      const body = json(validPayload(context));
      const types = pick(rng, [
        ['application/json', 'text/plain'],
        ['text/plain', 'application/json'],
        ['application/json', 'application/json'],
        ['application/x-www-form-urlencoded', 'application/json'],
      ]);
      const headers = standardHeaders(body, signatureOf(body, secret)).filter(([name]) => name !== 'Content-Type');
      headers.splice(1, 0, ['Content-Type', types[0]!], ['Content-Type', types[1]!]);
      return { description: `Content-Type sent twice: ${types.join(' then ')}`, request: post(body, undefined, headers), expect: { kind: 'signed' }, signedBody: body };
    },
  },
  {
    name: 'headers: missing or odd Content-Type',
    weight: 5,
    build(context) {
      const { rng, secret } = context;
      const payload = validPayload(context);
      const variants: [string | undefined, 'json' | 'form' | 'utf16', Expectation['kind']][] = [
        [undefined, 'json', 'rejected'],
        ['text/plain', 'json', 'rejected'],
        ['text/plain; charset=utf-8', 'json', 'rejected'],
        ['application/x-www-form-urlencoded', 'form', 'rejected'],
        ['application/x-www-form-urlencoded', 'json', 'rejected'],
        ['multipart/form-data; boundary=----x', 'json', 'rejected'],
        ['application/vnd.api+json', 'json', 'rejected'],
        ['application/jsonp', 'json', 'rejected'],
        ['application/octet-stream', 'json', 'rejected'],
        ['', 'json', 'rejected'],
        ['application/json; charset=utf-16', 'utf16', 'signed'],
        ['application/json; charset=utf-16', 'json', 'signed'],
        ['application/json; charset=latin1', 'json', 'signed'],
        ['application/JSON', 'json', 'signed'],
        ['APPLICATION/JSON; CHARSET=UTF-8', 'json', 'signed'],
        ['application/json;charset=utf-8', 'json', 'signed'],
        ['application/json, text/plain', 'json', 'signed'],
        ['application/json; boundary=x; charset="utf-8"', 'json', 'signed'],
      ];
      const [contentType, encoding, kind] = pick(rng, variants);
      const text = JSON.stringify(payload);
      const body =
        encoding === 'utf16' ? Buffer.from(text, 'utf16le') : encoding === 'form' ? Buffer.from(`payload=${encodeURIComponent(text)}&type=email.opened`) : Buffer.from(text);
      const headers = standardHeaders(body, signatureOf(body, secret)).filter(([name]) => name !== 'Content-Type');
      if (contentType !== undefined) headers.splice(1, 0, ['Content-Type', contentType]);
      const description = `${contentType === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(contentType)}`}, ${encoding} body, correctly signed`;
      return kind === 'signed'
        ? { description, request: post(body, undefined, headers), expect: { kind }, signedBody: body, ...(encoding === 'utf16' ? { decoded: text } : {}) }
        : { description, request: post(body, undefined, headers), expect: { kind: 'rejected' } };
    },
  },
  {
    name: 'framing: Content-Length wrong',
    weight: 5,
    build(context) {
      const { rng, secret } = context;
      const body = json(validPayload(context));
      const signature = signatureOf(body, secret);
      const withLength = (...lengths: string[]) => [
        ...standardHeaders(body, signature).filter(([name]) => name !== 'Content-Length'),
        ...lengths.map((length) => ['Content-Length', length] as [string, string]),
      ];
      const variant = int(rng, 0, 6);
      switch (variant) {
        case 0: {
          const sent = int(rng, 0, body.length - 1);
          return {
            description: `Content-Length ${body.length} but only ${sent} bytes sent, then our side closed`,
            request: { parts: [requestHead({ path: WEBHOOK_PATH, headers: withLength(String(body.length)) }), body.subarray(0, sent)], halfClose: true },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
        case 1: {
          const extra = int(rng, 1, 100_000);
          return {
            description: `Content-Length ${body.length + extra}: ${extra} more than the ${body.length} bytes sent, then our side closed`,
            request: { parts: [requestHead({ path: WEBHOOK_PATH, headers: withLength(String(body.length + extra)) }), body], halfClose: true },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
        case 2: {
          const length = int(rng, 0, body.length - 1);
          return {
            description: `Content-Length ${length}, shorter than the ${body.length} bytes sent (the rest looks like a second request)`,
            request: { parts: [requestHead({ path: WEBHOOK_PATH, headers: withLength(String(length)) }), body] },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
        case 3: {
          const value = pick(rng, ['abc', '-1', '1e3', '0x10', ' ', '99999999999999999999', `${body.length}.0`, `+${body.length}`]);
          return { description: `Content-Length ${JSON.stringify(value)}`, request: post(body, undefined, withLength(value)), expect: { kind: 'rejected' }, mayClose: true };
        }
        case 4:
          return {
            description: `two different Content-Length headers (${body.length}, ${body.length + 1})`,
            request: post(body, undefined, withLength(String(body.length), String(body.length + 1))),
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        case 5:
          return {
            description: `Content-Length "${body.length}, ${body.length}" (one header, two values)`,
            request: post(body, undefined, withLength(`${body.length}, ${body.length}`)),
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        default: {
          const headers = [...withLength(String(body.length)), ['Transfer-Encoding', 'chunked'] as [string, string]];
          return {
            description: 'Content-Length and Transfer-Encoding: chunked together (request smuggling shape)',
            request: { parts: [requestHead({ path: WEBHOOK_PATH, headers }), ...chunkedBody(body, [int(rng, 1, 64)])] },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
      }
    },
  },
  {
    name: 'framing: chunked encoding',
    weight: 5,
    build(context) {
      const { rng, secret } = context;
      const payload = validPayload(context);
      const variant = int(rng, 0, 5);
      const huge = variant === 5;
      const body = huge ? withRawValue(payload, ['notes'], `"${'x'.repeat(int(rng, MODULE_LIMIT, 1_300_000))}"`) : json(payload);
      const headers = standardHeaders(body, signatureOf(body, secret)).filter(([name]) => name !== 'Content-Length');
      headers.splice(2, 0, ['Transfer-Encoding', 'chunked']);
      const sizes = Array.from({ length: int(rng, 1, 12) }, () => int(rng, 1, huge ? 65_536 : 64));
      const chunks = chunkedBody(body, sizes);
      const head = requestHead({ path: WEBHOOK_PATH, headers });
      switch (variant) {
        case 0:
        case 1:
          return { description: `chunked in pieces of ${sizes.join(', ')} bytes`, request: { parts: [head, ...chunks] }, expect: { kind: 'handled' }, signedBody: body };
        case 2: {
          const last = chunks.length - 1;
          const withExtras = chunks.map((chunk, i) => (i === 0 ? Buffer.from(chunk.toString('latin1').replace('\r\n', ';ext=1\r\n'), 'latin1') : chunk));
          withExtras[last] = Buffer.from('0\r\nX-Trailer: yes\r\n\r\n');
          return { description: 'chunked, with a chunk extension and a trailer', request: { parts: [head, ...withExtras] }, expect: { kind: 'signed' }, signedBody: body };
        }
        case 3: {
          const broken = pick(rng, ['zz\r\n', '-1\r\n', `${(body.length + 10).toString(16)}\r\n`, 'ffffffffffffffffff\r\n', '\r\n']);
          return {
            description: `chunked with a bad chunk size line ${JSON.stringify(broken)}`,
            request: { parts: [head, Buffer.from(broken), body, Buffer.from('\r\n0\r\n\r\n')], halfClose: true },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
        case 4: {
          const keep = int(rng, 0, chunks.length - 2);
          return {
            description: `chunked, cut after ${keep} of ${chunks.length - 1} chunks, then our side closed`,
            request: { parts: [head, ...chunks.slice(0, keep)], halfClose: true },
            expect: { kind: 'rejected' },
            mayClose: true,
          };
        }
        default:
          return { description: `chunked, ${body.length} bytes in all (over the limit), correctly signed`, request: { parts: [head, ...chunks] }, expect: { kind: 'rejected', statuses: [413] }, mayClose: true };
      }
    },
  },
  {
    name: 'body: over the size limit',
    weight: 2,
    build(context) {
      const { rng, secret } = context;
      const size = pick(rng, [MODULE_LIMIT + 1, MODULE_LIMIT + int(rng, 2, 50_000), 1024 * 1024 + 1, 2 * 1024 * 1024]);
      const payload = validPayload(context);
      const skeleton = withRawValue(payload, ['notes'], '""');
      const body = withRawValue(payload, ['notes'], `"${'n'.repeat(Math.max(0, size - skeleton.length))}"`);
      const signature = chance(rng, 0.7) ? signatureOf(body, secret) : 'sha256=00';
      return { description: `a ${body.length}-byte body, ${signature === 'sha256=00' ? 'badly' : 'correctly'} signed`, request: post(body, signature), expect: { kind: 'rejected', statuses: [413] }, mayClose: true };
    },
  },
  {
    name: 'headers: junk',
    weight: 5,
    build(context) {
      const { rng, secret, tag } = context;
      const body = json(validPayload(context));
      const signature = signatureOf(body, secret);
      const headers = standardHeaders(body, signature);
      const raw = (head: string, description: string, expect: Expectation = { kind: 'rejected' }): Draft => ({
        description,
        request: { parts: [Buffer.from(head, 'latin1'), body] },
        expect,
        mayClose: true,
        ...(expect.kind === 'rejected' ? {} : { signedBody: body }),
      });
      const lines = headers.map(([name, value]) => `${name}: ${value}`);
      const variant = int(rng, 0, 13);
      switch (variant) {
        case 0:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nNoColonHere\r\n\r\n`, 'a header line without a colon');
        case 1:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Bad Name: x\r\n\r\n`, 'a header name with a space');
        case 2:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Folded: a\r\n  b\r\n\r\n`, 'an obs-fold continuation line');
        case 3:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Nul: a\u0000b\r\n\r\n`, 'a NUL byte in a header value');
        case 4:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Long: ${'v'.repeat(int(rng, 17_000, 70_000))}\r\n\r\n`, 'a header value longer than 16 KiB');
        case 5: {
          const many = Array.from({ length: int(rng, 200, 2_000) }, (_, i) => `X-H${i}: ${i}`).join('\r\n');
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\n${many}\r\n\r\n`, 'hundreds of headers', { kind: 'signed' });
        }
        case 6:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Keplars-Signature: ${signature}\r\n\r\n`, 'the valid signature header twice');
        case 7:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nX-Latin: caf\u00e9 \u00ff\r\n\r\n`, 'non-ASCII bytes in a header value', { kind: 'signed' });
        case 8:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\nExpect: 100-continue\r\n\r\n`, 'Expect: 100-continue, body sent at once', { kind: 'handled' });
        case 9: {
          const method = pick(rng, ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'FOO']);
          return raw(`${method} ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, `method ${method}`);
        }
        case 10: {
          const path = pick(rng, [`${WEBHOOK_PATH}?x=1`, `${WEBHOOK_PATH}/`, `${WEBHOOK_PATH}#frag`, '/webhooks/./keplars', '/webhooks/%6Beplars', `//${tag}${WEBHOOK_PATH}`, '/WEBHOOKS/KEPLARS']);
          return raw(`POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, `path ${path}`, { kind: 'signed' });
        }
        case 11: {
          const version = pick(rng, ['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', 'HTTP/9.9']);
          return raw(`POST ${WEBHOOK_PATH} ${version}\r\n${lines.join('\r\n')}\r\n\r\n`, `request line version ${version}`, { kind: 'signed' });
        }
        case 12:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\r\n${lines.filter((line) => !line.startsWith('Host')).join('\r\n')}\r\n\r\n`, 'no Host header');
        default:
          return raw(`POST ${WEBHOOK_PATH} HTTP/1.1\n${lines.join('\n')}\n\n`, 'bare LF line endings', { kind: 'signed' });
      }
    },
  },
];

function signatureFamilies(): Family[] {
  // Each case's body is a valid, unique event: anything but a 401 for these is a failure.
  const unauthorized = { kind: 'rejected', statuses: [401] } as const;
  const withSignature = (name: string, weight: number, make: (hex: string, context: Context, body: Buffer) => { value: string | undefined; what: string }): Family => ({
    name,
    weight,
    build(context) {
      const body = json(validPayload(context));
      const hex = signKeplarsPayload(body, context.secret);
      const { value, what } = make(hex, context, body);
      return { description: `X-Keplars-Signature ${what}: ${JSON.stringify(value)?.slice(0, 100)}`, request: post(body, value), expect: unauthorized };
    },
  });
  const replaceAt = (text: string, at: number, by: string) => `${text.slice(0, at)}${by}${text.slice(at + 1)}`;
  return [
    withSignature('signature: one hex digit changed', 4, (hex, { rng }) => {
      const at = int(rng, 0, 63);
      const digit = hex[at]!;
      const other = pick(rng, [...'0123456789abcdef'].filter((d) => d !== digit));
      return { value: `${pick(rng, ['sha256=', ''])}${replaceAt(hex, at, chance(rng, 0.3) ? other.toUpperCase() : other)}`, what: `digit ${at} changed` };
    }),
    withSignature('signature: wrong length', 3, (hex, { rng }) => {
      const longer = chance(rng, 0.5);
      const delta = int(rng, 1, 64);
      const value = longer ? `${hex}${hex.repeat(2).slice(0, delta)}` : hex.slice(0, 64 - delta);
      return { value: `sha256=${value}`, what: `${longer ? delta : -delta} hex digits` };
    }),
    withSignature('signature: wrong prefix', 3, (hex, { rng }) => {
      const prefix = pick(rng, ['sha1=', 'sha512=', 'sha256:', 'sha-256=', 'v1=', 'sha256==', 'sha256= ', 'hmac-sha256=', 'sha256=sha256=', '=', 't=1,v1=']);
      return { value: `${prefix}${hex}`, what: `prefixed ${JSON.stringify(prefix)}` };
    }),
    withSignature('signature: not hex', 3, (hex, { rng }) => {
      const at = int(rng, 0, 63);
      const by = pick(rng, ['g', 'z', 'G', '-', ' ', '+', '/', '=', '\u00e9', '0x']);
      return { value: `sha256=${replaceAt(hex, at, by)}`, what: `digit ${at} replaced by ${JSON.stringify(by)}` };
    }),
    withSignature('signature: empty or absent', 2, (_, { rng }) => {
      const value = pick(rng, [undefined, '', ' ', 'sha256=', 'sha256']);
      return { value, what: value === undefined ? 'absent' : 'empty' };
    }),
    withSignature('signature: several values', 3, (hex, { rng }) => {
      const other = signKeplarsPayload('{}', 'x');
      const value = pick(rng, [`sha256=${hex}, sha256=${hex}`, `sha256=${hex},sha256=${other}`, `sha256=${other}, sha256=${hex}`, `${hex} ${hex}`, `sha256=${hex};sha256=${hex}`]);
      return { value, what: 'with several values in one header' };
    }),
    withSignature('signature: valid for another body', 2, (_, context, body) => {
      const other = chance(context.rng, 0.5) ? json(validPayload({ ...context, tag: `${context.tag}_other` })) : Buffer.concat([body, Buffer.from(' ')]);
      return { value: `sha256=${signKeplarsPayload(other, context.secret)}`, what: 'valid for other bytes' };
    }),
    withSignature('signature: wrong secret or scheme', 2, (hex, context, body) => {
      const variant = int(context.rng, 0, 3);
      if (variant === 0) return { value: `sha256=${signKeplarsPayload(body, `${context.secret}x`)}`, what: 'made with another secret' };
      if (variant === 1) return { value: `sha256=${signKeplarsPayload(body, context.secret, 1_768_473_300)}`, what: 'made with the timestamped scheme' };
      if (variant === 2) return { value: `sha256=${signKeplarsPayload(body, '')}`, what: 'made with an empty secret' };
      return { value: `sha256=${hex.split('').reverse().join('')}`, what: 'reversed' };
    }),
    {
      name: 'signature: valid variants',
      weight: 3,
      build(context) {
        const { rng, secret } = context;
        const body = json(validPayload(context));
        const hex = signKeplarsPayload(body, secret);
        const value = pick(rng, [hex, hex.toUpperCase(), `sha256=${hex.toUpperCase()}`, `SHA256=${hex}`, `  sha256=${hex}  `, `sha256=${hex}\t`]);
        return { description: `a valid signature written ${JSON.stringify(value)}`, request: post(body, value), expect: { kind: 'handled' }, signedBody: body };
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------

const TOTAL_WEIGHT = FAMILIES.reduce((sum, family) => sum + family.weight, 0);

/** The random source of one case: the same seed and index always give the same request. */
function caseRandom(seed: number, index: number): Random {
  return seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

/** Case `index` of the run with this seed; independent of every other case, so any one can be replayed. */
export function generateCase(seed: number, index: number, secret: string): MalformedCase {
  const rng = caseRandom(seed, index);
  let roll = rng() * TOTAL_WEIGHT;
  const family = FAMILIES.find((candidate) => (roll -= candidate.weight) < 0) ?? FAMILIES.at(-1)!;
  const draft = family.build({ rng, secret, tag: `rb${seed}_${index}` });
  return {
    index,
    family: family.name,
    description: draft.description,
    request: draft.request,
    expect: draft.expect,
    mayClose: draft.mayClose ?? false,
    runKey: () => draft.signedBody && runKeyOfText(draft.decoded ?? draft.signedBody.toString('utf8'), draft.emailId),
  };
}

/**
 * The run key of a body as sent, when it parses as JSON (otherwise no handler may run for it). Like
 * the frameworks' JSON parsers, a leading byte order mark is skipped.
 */
function runKeyOfText(body: string, emailId: string | undefined): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  return runKeyOf(parsed, emailId);
}

/** A readable account of a case, for failure messages. */
export function describeCase(testCase: MalformedCase): string {
  const bytes = Buffer.concat(testCase.request.parts);
  return `#${testCase.index} [${testCase.family}] ${testCase.description}\n    request: ${escapeForDescription(bytes, 400)}`;
}
