import { KeplarsEndpoints } from './keplars-endpoints.js';
import { resolveKeplarsOptions, resolveRoute, type ResolvedKeplarsOptions } from './resolve-keplars-options.js';

const inline = resolveKeplarsOptions({ secret: 's' });
// Resolved queue options without connecting anywhere: only `queue` is looked at here.
const queued = { ...inline, queue: { role: 'receive-and-process' } } as unknown as ResolvedKeplarsOptions;

describe('KeplarsEndpoints', () => {
  it('takes endpoints with their own names and routes', () => {
    const endpoints = new KeplarsEndpoints();
    expect(endpoints.add(resolveRoute({ name: 'eu', path: '/webhooks/keplars/eu' }), inline)).toEqual([]);
    expect(endpoints.add(resolveRoute({ name: 'us', path: '/webhooks/keplars/us' }), queued)).toEqual([]);
    expect(endpoints.all().map((endpoint) => [endpoint.name, endpoint.queued])).toEqual([
      ['eu', false],
      ['us', true],
    ]);
  });

  it.each([
    ['one name twice', { name: 'eu', path: '/a' }, { name: 'eu', path: '/b' }, /imported twice with the name "eu"/],
    ['one path twice', { name: 'eu', path: '/hooks' }, { name: 'us', path: '/hooks/' }, /endpoints "eu" and "us" both receive on "\/hooks" and "\/hooks\/" \(the same route\)/],
    ['paths differing only in a parameter name', { name: 'eu', path: '/hooks/:region' }, { name: 'us', path: '/hooks/:tenant' }, /the same route/],
  ])('refuses %s', (_, first, second, message) => {
    const endpoints = new KeplarsEndpoints();
    endpoints.add(resolveRoute(first), inline);
    expect(endpoints.add(resolveRoute(second), inline)).toEqual([expect.stringMatching(message)]);
  });

  it('refuses queue mode on a second import (one BullMQ queue serves the app)', () => {
    const endpoints = new KeplarsEndpoints();
    endpoints.add(resolveRoute({ name: 'eu', path: '/eu' }), queued);
    expect(endpoints.add(resolveRoute({ name: 'us', path: '/us' }), inline)).toEqual([]);
    expect(endpoints.add(resolveRoute({ name: 'saas', path: '/saas/:tenant' }), queued)).toEqual([
      expect.stringMatching(/endpoints "eu" and "saas" both use queue mode, which serves one import of KeplarsWebhookModule for now/),
    ]);
  });
});
