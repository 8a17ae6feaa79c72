import { keplarsEventKey } from './event-key.js';

describe('keplarsEventKey', () => {
  it.each([
    ['the unnamed endpoint keeps the bare id, as 0.1.0 wrote it', { endpoint: 'default' }, 'evt_1', 'evt_1'],
    ['no source at all is the unnamed endpoint', undefined, 'evt_1', 'evt_1'],
    ['a named endpoint prefixes its name', { endpoint: 'eu' }, 'evt_1', 'eu::evt_1'],
    ['a tenant follows, percent-encoded', { endpoint: 'saas', tenant: 'acme:eu/1' }, 'evt_1', 'saas:acme%3Aeu%2F1:evt_1'],
    ['the unnamed endpoint spells out an id that looks namespaced', { endpoint: 'default' }, 'eu::evt_1', 'default::eu::evt_1'],
    ['the unnamed endpoint with a tenant', { endpoint: 'default', tenant: 'acme' }, 'evt_1', 'default:acme:evt_1'],
  ])('%s', (_, source, id, key) => {
    expect(keplarsEventKey(source, id)).toBe(key);
  });

  it('gives distinct keys to distinct (endpoint, tenant, id), however the parts are chosen', () => {
    const parts = ['', 'a', ':', 'a:b', '::', '%3A', 'eu', 'default'];
    const endpoints = ['default', 'eu', 'e-u'];
    const keys = new Set<string>();
    let count = 0;
    for (const endpoint of endpoints) {
      for (const tenant of [undefined, ...parts.filter(Boolean)]) {
        for (const id of parts.filter(Boolean)) {
          keys.add(keplarsEventKey({ endpoint, tenant }, id));
          count++;
        }
      }
    }
    expect(keys.size).toBe(count);
  });
});
