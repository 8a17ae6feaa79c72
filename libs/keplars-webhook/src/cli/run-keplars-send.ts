import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { isKnownKeplarsEventType } from '../core/0-event/keplars-event.js';
import { buildKeplarsPayload, postKeplarsEvent, type KeplarsDeliveryResponse } from '../testing/index.js';
import { parseSendArgs, SECRET_VARIABLE, SEND_USAGE, type SendOptions } from './parse-send-args.js';
import { resolveSendSecret, type FoundSecret } from './resolve-send-secret.js';
import { REFUSED_HEADER, HANDLERS_HEADER } from '../core/5-answer/answer-headers.js';

/** Where `keplars-send` prints: stdout and stderr in the command, a buffer in tests. */
export interface SendOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes: 0 every answer was the one expected, 1 another answer or no answer, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * The whole `keplars-send` command, minus the process: reads the arguments, signs one realistic
 * event, posts it (`--repeat` times), prints each answer, and returns the exit code.
 */
export async function runKeplarsSend(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, output: SendOutput): Promise<number> {
  const parsed = parseSendArgs(argv);
  if (parsed.kind === 'help') {
    output.out(SEND_USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === 'usage-error') {
    output.err(parsed.message);
    return EXIT.usage;
  }
  let found: FoundSecret | undefined;
  try {
    found = resolveSendSecret(parsed.options, env);
  } catch (error) {
    output.err((error as Error).message);
    return EXIT.usage;
  }
  if (!found && !parsed.options.badSignature) {
    output.err(
      `No secret to sign with. Use the one your app verifies with: pass --secret, set ${SECRET_VARIABLE}, ` +
        `or point --dotenv at the app's .env${parsed.options.envFiles.length ? ` (none of ${parsed.options.envFiles.join(', ')} sets it)` : ''}.`,
    );
    return EXIT.usage;
  }
  return sendTestEvent(parsed.options, found, output);
}

async function sendTestEvent(options: SendOptions, found: FoundSecret | undefined, output: SendOutput): Promise<number> {
  const payload = buildKeplarsPayload(options.type, {
    shape: options.shape,
    id: options.id,
    emailId: options.emailId,
    recipient: options.recipient,
    subject: 'Test event from keplars-send', // the same for every event of one email, and plain to spot in the app's data
  });
  const body = JSON.stringify(payload);
  // Fixed once, so that --repeat resends the very same delivery, as a Keplars retry would.
  const timestamp = options.timestamp ? Math.floor(Date.now() / 1000) : undefined;
  const secret = options.badSignature ? `wrong_${randomBytes(8).toString('hex')}` : found!.secret;

  const fields = (options.shape === 'flat' ? payload : payload.data) as Record<string, unknown>;
  output.out(`POST ${options.url.href}${options.tenant === undefined ? '' : ` (tenant ${options.tenant})`}`);
  output.out(`  event   ${options.type} (${options.shape} shape), ${payload.id ? `id ${String(payload.id)}` : 'no id on the wire: the app derives one from the content'}`);
  output.out(`  email   ${String(fields.email_id)}, to ${String(fields.to ?? fields.recipient)}`);
  output.out(`  signed  ${options.badSignature ? 'with a wrong secret (--bad-signature)' : `with ${found!.source}`}${timestamp ? `, timestamped ${timestamp}` : ''}`);
  if (!isKnownKeplarsEventType(options.type)) {
    output.out(`  note    ${options.type} is not a type the module knows: only wildcard handlers ('*', 'email.*') will get it`);
  }
  output.out(JSON.stringify(payload, null, 2));

  let asExpected = true;
  for (let attempt = 1; attempt <= options.repeat; attempt++) {
    let response: KeplarsDeliveryResponse;
    try {
      response = await postKeplarsEvent(options.url.href, body, { secret, timestamp });
    } catch (error) {
      output.err(connectionFailure(options.url, error));
      return EXIT.failed;
    }
    const label = options.repeat > 1 ? `Delivery ${attempt} of ${options.repeat}` : 'Answer';
    output.out(`\n${label}: ${response.status} ${STATUS_CODES[response.status] ?? ''}`.trimEnd());
    output.out(typeof response.body === 'string' ? response.body || '(empty body)' : JSON.stringify(response.body, null, 2));
    output.out(`→ ${explain(response, options, found)}`);
    asExpected &&= options.badSignature ? response.status === 401 : response.status >= 200 && response.status < 300;
  }
  return asExpected ? EXIT.ok : EXIT.failed;
}

/** One line a person can act on, for each answer the module gives (SPEC §3), or the app around it. */
function explain(response: KeplarsDeliveryResponse, options: SendOptions, found: FoundSecret | undefined): string {
  if (response.status >= 200 && response.status < 300) return explainAccepted(response, options);
  if (response.status === 404) {
    return `nothing answers at ${options.url.pathname}: if the webhook route has another path (the module's path option, a global prefix), pass the full --url`;
  }
  // The module marks every refusal of its own; anything else came from the app before the module ran.
  if (response.headers[REFUSED_HEADER] === undefined) return explainRefusedByApp(response.status);
  switch (response.status) {
    case 401:
      if (options.badSignature) return 'refused, as expected with --bad-signature (the app logs why)';
      if (options.tenant !== undefined) {
        return `refused: tenant "${options.tenant}" is unknown to the app, or its secret is not the one used (${found?.source}); the app's log says which`;
      }
      return `refused: the signature does not verify. Sign with the secret the app verifies with (this run used ${found?.source})` +
            (options.timestamp
              ? '; and drop --timestamp unless the app uses the timestamped scheme'
              : '; if the app uses the timestamped scheme, add --timestamp');
    case 400:
      return 'the signature verified, but the app refused the payload: see the messages above';
    case 409:
      return 'another delivery of this event is still running in the app; Keplars would retry later';
    case 413:
      return "the body is over the app's size limit (the module's maxBodyBytes option)";
    case 415:
      return 'refused: the request was not sent as application/json';
    case 500:
      return "a handler failed: the app's log says which and why. Keplars would retry, and only the failed handlers would run again";
    case 503:
      return options.tenant !== undefined
        ? "the app could not look up the tenant's secret, or its deduplication store is unreachable (its log says which); Keplars would retry later"
        : "the app's deduplication store is unreachable; Keplars would retry later";
    default:
      return "unexpected answer: see the app's log";
  }
}

function explainAccepted(response: KeplarsDeliveryResponse, options: SendOptions): string {
  if (response.body?.duplicate) return 'already handled: no handler ran again (deduplication)';
  const header = response.headers[HANDLERS_HEADER];
  // Outside production, in inline mode, the module says how many handlers ran.
  if (typeof header !== 'string') {
    return 'accepted (the app does not say how many handlers ran: with NODE_ENV=production it never does, and in queue mode workers run them later)';
  }
  const count = Number(header);
  if (count > 0) return `accepted: ${count} handler${count === 1 ? '' : 's'} ran`;
  return (
    `accepted, but no handler ran: nothing in the app takes ${options.type}. ` +
    `If a service has @OnKeplarsEvent('${options.type}'), check that it is listed in the providers of a module the app imports ` +
    "(the app's startup log lists every handler the module found)"
  );
}

function explainRefusedByApp(status: number): string {
  const by = `refused by your app before the webhook module ran (the answer lacks the module's ${REFUSED_HEADER} marker)`;
  switch (status) {
    case 401:
    case 403:
      return `${by}: most likely a global guard, such as an auth guard. Mark the webhook route public through the module's routeDecorators option, e.g. forRoot({ secret, routeDecorators: [Public()] })`;
    case 429:
      return `${by}: most likely a global throttler. Let the route skip it through the module's routeDecorators option, e.g. routeDecorators: [SkipThrottle()]`;
    case 413:
      return `${by}: the framework's body parser found the body over its own size limit`;
    default:
      return `${by}: a global guard, middleware or filter answered ${status}; the app's log may say which`;
  }
}

function connectionFailure(url: URL, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const cause = code === 'ECONNREFUSED' ? `nothing is listening on ${url.host}` : (code ?? (error as Error).message);
  return `Could not reach ${url.href} (${cause}). Is the app running? Start it with \`npm start\`, or pass --url where it listens.`;
}
