import { Injectable } from '@nestjs/common';
import { KeplarsWebhookModule, OnKeplarsEvent, type KeplarsEvent } from 'nestjs-keplars-webhook';
import { ADAPTERS, createWebhookApp } from './support/webhook-app.js';

// SPEC §2 and §7: a configuration of several accounts that cannot work refuses to start, listing
// every problem and how to fix it.

@Injectable()
class MisnamedEndpointHandler {
  @OnKeplarsEvent('email.bounced', { endpoint: 'europe' })
  onBounce(_event: KeplarsEvent): void {}
}

const resolveSecret = async () => 's';

describe.each(ADAPTERS)('startup checks of several accounts on %s', (adapter) => {
  it.each([
    [
      'two imports without names (both "default")',
      () => [KeplarsWebhookModule.forRoot({ secret: 'a', path: '/hooks/a' }), KeplarsWebhookModule.forRoot({ secret: 'b', path: '/hooks/b' })],
      /imported twice with the name "default".*give each import its own name, e.g. forRoot\(\{ name: 'eu'/s,
    ],
    [
      'two imports with one name',
      () => [KeplarsWebhookModule.forRoot({ name: 'eu', secret: 'a', path: '/hooks/a' }), KeplarsWebhookModule.forRoot({ name: 'eu', secret: 'b', path: '/hooks/b' })],
      /imported twice with the name "eu"/,
    ],
    [
      'two imports with one path',
      () => [KeplarsWebhookModule.forRoot({ name: 'eu', secret: 'a' }), KeplarsWebhookModule.forRoot({ name: 'us', secret: 'b' })],
      /endpoints "eu" and "us" both receive on "\/webhooks\/keplars".*Give each import its own path/s,
    ],
    [
      'two paths that match the same requests',
      () => [
        KeplarsWebhookModule.forRoot({ name: 'eu', secret: 'a', path: '/hooks/:region' }),
        KeplarsWebhookModule.forRootAsync({ name: 'saas', path: '/hooks/:tenant/', useFactory: () => ({ tenants: { resolveSecret } }) }),
      ],
      /endpoints "eu" and "saas" both receive on "\/hooks\/:region" and "\/hooks\/:tenant\/" \(the same route\)/,
    ],
    ['a malformed endpoint name', () => [KeplarsWebhookModule.forRoot({ name: 'eu west', secret: 'a' })], /name must be 1 to 64 letters, digits, "-" or "_", such as "eu" \(got "eu west"\)/],
    [
      'a name returned by a forRootAsync factory instead of given beside it',
      () => [KeplarsWebhookModule.forRootAsync({ useFactory: () => ({ secret: 'a', name: 'eu' }) as never })],
      /"name" was returned by the forRootAsync\(\) factory, but it shapes the route.*put it beside useFactory/s,
    ],
    [
      'tenants on a path without the tenant parameter',
      () => [KeplarsWebhookModule.forRoot({ tenants: { resolveSecret } })],
      /the path "\/webhooks\/keplars" has no :tenant parameter.*"\/webhooks\/keplars\/:tenant"/s,
    ],
    [
      'tenants with a parameter the path does not have',
      () => [KeplarsWebhookModule.forRoot({ path: '/hooks/:tenant', tenants: { resolveSecret, parameter: 'workspace' } })],
      /the path "\/hooks\/:tenant" has no :workspace parameter/,
    ],
    [
      'a resolver that is not a function',
      () => [KeplarsWebhookModule.forRoot({ path: '/hooks/:tenant', tenants: { resolveSecret: 'vault://keplars' as never } })],
      /tenants.resolveSecret must be a function that returns the tenant's secret.*\(got "vault:\/\/keplars"\)/s,
    ],
    [
      'both a secret and tenants',
      () => [KeplarsWebhookModule.forRoot({ path: '/hooks/:tenant', secret: 's', tenants: { resolveSecret } })],
      /give either secret .* or tenants .*, not both/,
    ],
  ])('refuses %s', async (_, imports, message) => {
    await expect(async () => createWebhookApp({ adapter, imports: imports() })).rejects.toThrow(message);
  });

  it('lists every problem of a tenants configuration at once', async () => {
    const error: Error = await createWebhookApp({
      adapter,
      imports: [KeplarsWebhookModule.forRoot({ tenants: { resolveSecret: undefined as never, cacheSeconds: 0, maxCachedTenants: 2.5, timeoutMs: -1, ttl: 5 } as never })],
    }).then(
      () => new Error('started'),
      (thrown: Error) => thrown,
    );
    const problems = error.message.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toEqual([
      expect.stringMatching(/unknown option "tenants.ttl"/),
      expect.stringMatching(/tenants.resolveSecret must be a function/),
      expect.stringMatching(/has no :tenant parameter/),
      expect.stringMatching(/tenants.cacheSeconds must be a positive number \(got 0\)/),
      expect.stringMatching(/tenants.maxCachedTenants must be a whole number/),
      expect.stringMatching(/tenants.timeoutMs must be a positive number \(got -1\)/),
    ]);
  });

  it('refuses a handler filtering on an endpoint no import is named (a typo would silence it)', async () => {
    await expect(
      createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot({ name: 'eu', secret: 'a' })], providers: [MisnamedEndpointHandler] }),
    ).rejects.toThrow(/MisnamedEndpointHandler\.onBounce takes events of endpoint "europe", but no import of KeplarsWebhookModule has that name \(the names are: eu\)/);
  });
});
