import type { IncomingMessage } from 'node:http';
import { KeplarsLog } from '../log/keplars-log.js';
import { basicCredentialsMatch, DashboardGate, digest } from './dashboard-gate.js';
import type { KeplarsDashboardOptions } from './keplars-dashboard.options.js';
import { resolveDashboardOptions } from './resolve-dashboard-options.js';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const request = (method: string, authorization?: string, headers: Record<string, string> = {}) =>
  ({ method, headers: { ...(authorization ? { authorization } : {}), ...headers } }) as unknown as IncomingMessage;
const errors: string[] = [];
const logger = new KeplarsLog({ log() {}, warn() {}, error: (message: string) => errors.push(message) });
const gateFor = (options: KeplarsDashboardOptions): DashboardGate => {
  const resolved = resolveDashboardOptions(options);
  if (!resolved.enabled) throw new Error('these options turn the dashboard off');
  return new DashboardGate(resolved, logger);
};

describe('basicCredentialsMatch', () => {
  const expected = digest('admin:s3cret');
  it.each([
    ['the right user and password', basic('admin:s3cret'), true],
    ['the scheme in another case', `bAsIc ${Buffer.from('admin:s3cret').toString('base64')}`, true],
    ['a wrong password', basic('admin:s3cre'), false],
    ['a wrong user', basic('root:s3cret'), false],
    ['no header', undefined, false],
    ['another scheme', `Bearer ${Buffer.from('admin:s3cret').toString('base64')}`, false],
    ['no credentials', 'Basic', false],
    ['something after them', `${basic('admin:s3cret')} extra`, false],
    ['not base64 at all', 'Basic %%%', false],
  ])('%s: %s', (_case, header, matches) => {
    expect(basicCredentialsMatch(header, expected)).toBe(matches);
  });
});

describe('DashboardGate', () => {
  const readOnly = gateFor({ auth: { user: 'admin', password: 's3cret', realm: 'Ops' } });
  const check = (gate: DashboardGate, method: string, url: string, authorization?: string, headers?: Record<string, string>) =>
    gate.check(request(method, authorization, headers), url);

  it('answers 401 with a basic-auth challenge before anything else, whatever the method', async () => {
    for (const method of ['GET', 'PUT', 'POST']) {
      expect(await check(readOnly, method, '/admin/queues/api/queues')).toEqual({
        status: 401,
        headers: { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Basic realm="Ops", charset="UTF-8"' },
        body: '401: this dashboard needs its user and password.\n',
      });
    }
  });

  it('lets GET and HEAD through with the credentials, and answers 405 to every other method when read-only', async () => {
    const auth = basic('admin:s3cret');
    expect(await check(readOnly, 'GET', '/admin/queues', auth)).toBeUndefined();
    expect(await check(readOnly, 'HEAD', '/admin/queues/static/main.js', auth)).toBeUndefined();
    for (const [method, url] of [
      ['PUT', '/admin/queues/api/queues/keplars-webhook/retry/failed'],
      ['PUT', '/admin/queues/api/queues/keplars-webhook/clean/failed'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PATCH', '/admin/queues/api/queues/keplars-webhook/evt_1/priority'],
      ['DELETE', '/admin/queues/api/queues/keplars-webhook'],
    ]) {
      expect(await check(readOnly, method!, url!, auth)).toMatchObject({ status: 405, headers: { Allow: 'GET, HEAD' }, body: expect.stringContaining('read-only') });
    }
  });

  it('with readOnly: false, lets changes through but never adding a job or editing its data', async () => {
    const writable = gateFor({ auth: { user: 'admin', password: 's3cret' }, readOnly: false });
    const auth = basic('admin:s3cret');
    expect(await check(writable, 'PUT', '/admin/queues/api/queues/keplars-webhook/retry/failed', auth)).toBeUndefined();
    expect(await check(writable, 'PUT', '/admin/queues/api/queues/keplars-webhook/evt_1/retry', auth)).toBeUndefined();
    expect(await check(writable, 'POST', '/admin/queues/api/queues/keplars-webhook/add', auth)).toMatchObject({ status: 405, body: expect.stringContaining('never signed') });
    expect(await check(writable, 'PATCH', '/admin/queues/api/queues/keplars-webhook/evt_1/update-data?x=1', auth)).toMatchObject({ status: 405 });
  });

  it('asks an auth hook, answers 401 (no challenge) unless it says true, and 500 with a log line when it throws', async () => {
    const gate = gateFor({
      auth: async (incoming) => {
        if (incoming.headers['x-operator'] === 'boom') throw new Error('session store unreachable');
        return incoming.headers['x-operator'] === 'ops';
      },
    });
    expect(await check(gate, 'GET', '/admin/queues', undefined, { 'x-operator': 'ops' })).toBeUndefined();
    expect(await check(gate, 'GET', '/admin/queues', undefined, { 'x-operator': 'guest' })).toEqual({
      status: 401,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: '401: not allowed to see this dashboard.\n',
    });
    expect(await check(gate, 'GET', '/admin/queues', undefined, { 'x-operator': 'boom' })).toMatchObject({ status: 500 });
    expect(errors).toEqual([expect.stringContaining("The dashboard's auth check threw (session store unreachable)")]);
  });
});
