import { DEFAULT_WEBHOOK_URL, parseSendArgs, type SendOptions } from './parse-send-args.js';

function optionsOf(argv: string[]): SendOptions {
  const parsed = parseSendArgs(argv);
  if (parsed.kind !== 'send') throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
}

describe('parseSendArgs', () => {
  it('defaults to one email.delivered in the envelope shape, to the local app', () => {
    expect(optionsOf([])).toEqual({
      url: new URL(DEFAULT_WEBHOOK_URL),
      tenant: undefined,
      secret: undefined,
      envFiles: [],
      type: 'email.delivered',
      shape: 'envelope',
      emailId: undefined,
      id: undefined,
      recipient: undefined,
      repeat: 1,
      badSignature: false,
      timestamp: false,
    });
  });

  it('reads every flag', () => {
    const argv = [
      '--url', 'https://hooks.example.com/keplars', '--secret', 's3cret', '--dotenv', '.env', '--dotenv', '.env.example',
      '--type', 'email.bounced', '--shape', 'envelope', '--email-id', 'em_1', '--id', 'evt_1', '--recipient', 'a@example.com',
      '--repeat', '3', '--bad-signature', '--timestamp',
    ];
    expect(optionsOf(argv)).toEqual({
      url: new URL('https://hooks.example.com/keplars'),
      tenant: undefined,
      secret: 's3cret',
      envFiles: ['.env', '.env.example'],
      type: 'email.bounced',
      shape: 'envelope',
      emailId: 'em_1',
      id: 'evt_1',
      recipient: 'a@example.com',
      repeat: 3,
      badSignature: true,
      timestamp: true,
    });
  });

  it.each([
    ['--path, for a named endpoint', ['--path', '/webhooks/keplars/eu'], 'http://localhost:3000/webhooks/keplars/eu'],
    ['--tenant, added to the default path', ['--tenant', 'acme'], 'http://localhost:3000/webhooks/keplars/acme'],
    ['--tenant, filling the :parameter of --url', ['--url', 'https://api.example.com/hooks/:workspace/keplars', '--tenant', 'acme corp'], 'https://api.example.com/hooks/acme%20corp/keplars'],
    ['--tenant after --path', ['--path', '/saas/keplars/', '--tenant', 'acme'], 'http://localhost:3000/saas/keplars/acme'],
  ])('%s', (_, argv, url) => {
    const options = optionsOf(argv);
    expect(options.url.href).toBe(url);
    expect(options.tenant).toBe(argv.includes('--tenant') ? argv[argv.indexOf('--tenant') + 1] : undefined);
  });

  it.each([['flat'], ['event-data']])('accepts the %s shape', (shape) => {
    expect(optionsOf(['--shape', shape]).shape).toBe(shape);
  });

  it('lets through a type Keplars may add later (the sender notes it)', () => {
    expect(optionsOf(['--type', 'email.reopened']).type).toBe('email.reopened');
  });

  it.each([['--help'], ['-h']])('%s asks for help, whatever else is there', (flag) => {
    expect(parseSendArgs(['--repeat', '0', flag])).toEqual({ kind: 'help' });
  });

  it.each([
    ['an unknown flag', ['--sekret', 'x'], /Unknown option '--sekret'/],
    ['a stray argument', ['email.opened'], /Unexpected argument 'email\.opened'/],
    ['a flag without its value', ['--type'], /--type/],
    ['an unknown shape', ['--shape', 'xml'], /--shape must be one of envelope, flat, event-data, not "xml"/],
    ['--id with the flat shape', ['--shape', 'flat', '--id', 'evt_1'], /--id needs --shape envelope: the flat shape carries no event id/],
    ['--repeat 0', ['--repeat', '0'], /--repeat must be a whole number from 1 to 1000, not "0"/],
    ['--repeat 1.5', ['--repeat', '1.5'], /--repeat must be a whole number/],
    ['--repeat two', ['--repeat', 'two'], /--repeat must be a whole number/],
    ['--repeat 1001', ['--repeat', '1001'], /--repeat must be a whole number/],
    ['a URL without a scheme', ['--url', 'localhost:3000/webhooks/keplars'], /--url must start with http:\/\/ or https:\/\//],
    ['not a URL', ['--url', 'nowhere'], /--url must be a full URL such as http:\/\/localhost:3000\/webhooks\/keplars, not "nowhere"/],
    ['an empty type', ['--type', ' '], /--type must name an event type/],
    ['an empty secret', ['--secret', ''], /--secret must not be empty/],
    ['a --path that is not a path', ['--path', 'webhooks/eu'], /--path must be a URL path such as \/webhooks\/keplars\/eu/],
    ['an empty --tenant', ['--tenant', ''], /--tenant must not be empty/],
  ])('refuses %s, saying what is wrong and where to look', (_, argv, message) => {
    const parsed = parseSendArgs(argv);
    expect(parsed.kind).toBe('usage-error');
    expect(parsed.kind === 'usage-error' && parsed.message).toMatch(message);
    expect(parsed.kind === 'usage-error' && parsed.message).toMatch(/Run with --help to see the options\.$/);
  });
});
