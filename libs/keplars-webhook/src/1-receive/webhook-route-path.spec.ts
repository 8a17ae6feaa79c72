import { matchesRoutePath, servedRoutePath } from './webhook-route-path.js';

describe('matchesRoutePath: the webhook route, as Express matches it', () => {
  it.each([
    ['/webhooks/keplars', '/webhooks/keplars', true],
    ['/webhooks/keplars', '/webhooks/keplars/', true],
    ['/webhooks/keplars', '/Webhooks/Keplars?x=1', true],
    ['/webhooks/keplars', '/webhooks/keplars/extra', false],
    ['/webhooks/keplars', '/webhooks', false],
    ['/webhooks/keplars', '/notes', false],
    ['/webhooks/keplars/:tenant', '/webhooks/keplars/acme', true],
    ['/webhooks/keplars/:tenant', '/webhooks/keplars', false],
    ['/api/hooks/:tenant', '/api/hooks/a%20b?q', true],
  ])('%s against %s: %s', (route, url, expected) => {
    expect(matchesRoutePath(route, url)).toBe(expected);
  });
});

describe('servedRoutePath: under the global prefix unless excluded', () => {
  it.each([
    ['/webhooks/keplars', '', false, '/webhooks/keplars'],
    ['/webhooks/keplars', 'api', false, '/api/webhooks/keplars'],
    ['webhooks/keplars', '/api/v1/', false, '/api/v1/webhooks/keplars'],
    ['/hooks/keplars-email', 'api', true, '/hooks/keplars-email'],
  ])('%s with prefix %j (excluded: %s) is %s', (route, prefix, excluded, expected) => {
    expect(servedRoutePath(route, prefix, excluded)).toBe(expected);
  });
});
