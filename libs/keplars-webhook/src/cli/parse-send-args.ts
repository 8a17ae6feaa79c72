import { parseArgs } from 'node:util';
import { KEPLARS_WIRE_SHAPES, type KeplarsWireShape } from '../testing/index.js';
import { withTenant } from '../testing/post-keplars-event.js';

export const DEFAULT_WEBHOOK_URL = 'http://localhost:3000/webhooks/keplars';
export const SECRET_VARIABLE = 'KEPLARS_WEBHOOK_SECRET';
const MAX_REPEAT = 1000;

/** What `keplars-send` was asked to do. */
export interface SendOptions {
  /** Where to post: `--url`, with `--path` and `--tenant` applied. */
  url: URL;
  /** From `--tenant`, on a route with one secret per tenant. */
  tenant: string | undefined;
  /** From `--secret`; the environment and `--dotenv` are consulted later, by `resolveSendSecret()`. */
  secret: string | undefined;
  /** From `--dotenv` (named so because Node 20 itself takes any `--env-file` on the command line). */
  envFiles: string[];
  type: string;
  shape: KeplarsWireShape;
  emailId: string | undefined;
  id: string | undefined;
  recipient: string | undefined;
  repeat: number;
  badSignature: boolean;
  timestamp: boolean;
}

export type ParsedSendArgs = { kind: 'send'; options: SendOptions } | { kind: 'help' } | { kind: 'usage-error'; message: string };

export const SEND_USAGE = `Usage: keplars-webhook-send [options]

Sends one realistic, signed Keplars webhook event to your app, as Keplars would, and prints each answer.

How to run it:
  npx keplars-webhook-send [options]                           in an app that has nestjs-keplars-webhook installed
  npx -p nestjs-keplars-webhook keplars-webhook-send [options]  anywhere else (plain \`npx keplars-webhook-send\`
                                                               there would ask npm for another package of that name)
  npm run send -- [options]                                    in the nestjs-keplars-webhook repository

Options:
  --url URL            where your app receives webhooks (default: ${DEFAULT_WEBHOOK_URL})
  --path PATH          post to this path of --url's host instead: another endpoint of an app with
                       several Keplars accounts, e.g. --path /webhooks/keplars/eu
  --tenant TENANT      the tenant, on a route with one secret per tenant: fills the path's :tenant
                       segment (or is added as the last segment, e.g. /webhooks/keplars/acme);
                       sign with that tenant's --secret
  --secret SECRET      the webhook secret your app verifies with
                       (default: $${SECRET_VARIABLE}, else the first --dotenv that sets it)
  --dotenv FILE        read ${SECRET_VARIABLE} from this dotenv file, if it exists (repeatable)
  --type TYPE          the event type (default: email.delivered): email.queued, email.sent, email.delivered,
                       email.opened, email.clicked, email.bounced, email.failed, email.scheduled,
                       email.cancelled, email.complained, or a type Keplars may add
  --shape SHAPE        the payload shape: envelope (default), flat or event-data
  --email-id ID        the email the event is about (default: a new id)
  --id ID              the event id, envelope shape only (default: a new id)
  --recipient ADDRESS  the recipient (default: user@example.com)
  --repeat N           send the same delivery N times, to see deduplication (default: 1)
  --bad-signature      sign with a wrong secret, to see the app refuse it (401)
  --timestamp          sign with the timestamped scheme (adds X-Keplars-Timestamp)
  -h, --help           show this help

Examples:
  keplars-webhook-send --type email.opened --email-id em_123
  keplars-webhook-send --repeat 2
  keplars-webhook-send --type email.bounced --recipient gone@example.com --dotenv .env
  keplars-webhook-send --path /webhooks/keplars/eu --secret "$KEPLARS_EU_SECRET"
  keplars-webhook-send --tenant acme --secret "$ACME_KEPLARS_SECRET"`;

/**
 * Reads `keplars-send`'s command line. Pure: it looks at nothing but its argument, so every rule
 * about flags is unit-tested here, and the sender only acts on a valid {@link SendOptions}.
 */
export function parseSendArgs(argv: readonly string[]): ParsedSendArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        path: { type: 'string' },
        tenant: { type: 'string' },
        secret: { type: 'string' },
        dotenv: { type: 'string', multiple: true },
        type: { type: 'string' },
        shape: { type: 'string' },
        'email-id': { type: 'string' },
        id: { type: 'string' },
        recipient: { type: 'string' },
        repeat: { type: 'string' },
        'bad-signature': { type: 'boolean' },
        timestamp: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) return { kind: 'help' };

  const url = parseUrl(values.url ?? DEFAULT_WEBHOOK_URL);
  if (typeof url === 'string') return usageError(url);
  if (values.path !== undefined) {
    if (!values.path.startsWith('/') || /[\s?#]/.test(values.path)) return usageError(`--path must be a URL path such as /webhooks/keplars/eu, not "${values.path}"`);
    url.pathname = values.path;
  }
  if (values.tenant !== undefined) {
    if (values.tenant.trim() === '') return usageError('--tenant must not be empty');
    const path = url.pathname.split('/').some((segment) => segment.startsWith(':') || segment.startsWith('%3A'))
      ? url.pathname
      : `${url.pathname.replace(/\/$/, '')}/:tenant`;
    url.pathname = withTenant(path, values.tenant);
  }

  const shape = values.shape ?? 'envelope';
  if (!isWireShape(shape)) return usageError(`--shape must be one of ${KEPLARS_WIRE_SHAPES.join(', ')}, not "${shape}"`);
  if (values.id !== undefined && shape !== 'envelope') {
    return usageError(`--id needs --shape envelope: the ${shape} shape carries no event id (the app derives one from the content)`);
  }

  const repeat = Number(values.repeat ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT) {
    return usageError(`--repeat must be a whole number from 1 to ${MAX_REPEAT}, not "${values.repeat}"`);
  }

  const type = values.type ?? 'email.delivered';
  if (type.trim() === '') return usageError('--type must name an event type, e.g. email.opened');

  for (const [flag, value] of [['--secret', values.secret], ['--email-id', values['email-id']], ['--id', values.id], ['--recipient', values.recipient]] as const) {
    if (value === '') return usageError(`${flag} must not be empty`);
  }

  return {
    kind: 'send',
    options: {
      url,
      tenant: values.tenant,
      secret: values.secret,
      envFiles: values.dotenv ?? [],
      type,
      shape,
      emailId: values['email-id'],
      id: values.id,
      recipient: values.recipient,
      repeat,
      badSignature: values['bad-signature'] ?? false,
      timestamp: values.timestamp ?? false,
    },
  };
}

function usageError(message: string): ParsedSendArgs {
  return { kind: 'usage-error', message: `${message}. Run with --help to see the options.` };
}

function parseUrl(value: string): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `--url must be a full URL such as ${DEFAULT_WEBHOOK_URL}, not "${value}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--url must start with http:// or https://, not "${url.protocol}//"`;
  return url;
}

function isWireShape(shape: string): shape is KeplarsWireShape {
  return (KEPLARS_WIRE_SHAPES as readonly string[]).includes(shape);
}
