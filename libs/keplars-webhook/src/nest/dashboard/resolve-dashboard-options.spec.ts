import type { KeplarsDashboardOptions } from './keplars-dashboard.options.js';
import { resolveDashboardOptions } from './resolve-dashboard-options.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

const refusal = (options: unknown): string => {
  try {
    resolveDashboardOptions(options as KeplarsDashboardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(KeplarsConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a startup refusal');
};

describe('resolveDashboardOptions', () => {
  it('applies the defaults: /admin/queues, read-only, the package\'s title', () => {
    expect(resolveDashboardOptions({ auth: { user: 'admin', password: 's3cret' } })).toEqual({
      enabled: true,
      auth: { kind: 'basic', user: 'admin', password: 's3cret', realm: 'Keplars dashboard' },
      path: '/admin/queues',
      readOnly: true,
      title: 'Keplars webhooks',
    });
  });

  it('takes an auth hook, a path without its leading or trailing slash, and readOnly: false', () => {
    const check = () => true;
    expect(resolveDashboardOptions({ auth: check, path: 'ops/queues/', readOnly: false, title: 'Ops' })).toEqual({
      enabled: true,
      auth: { kind: 'hook', check },
      path: '/ops/queues',
      readOnly: false,
      title: 'Ops',
    });
  });

  it.each([
    ['no options at all', undefined, 'auth is not set'],
    ['no auth', {}, 'auth is not set'],
    ['auth: undefined (an unset variable behind it)', { auth: undefined }, 'auth is not set'],
    ['an unset password', { auth: { user: 'admin', password: undefined } }, 'auth.password is not set (got undefined)'],
    ['an empty password', { auth: { user: 'admin', password: '' } }, 'auth.password is empty'],
    ['an empty user', { auth: { user: ' ', password: 'x' } }, 'auth.user must be a non-empty string'],
    ['a user with ":"', { auth: { user: 'a:b', password: 'x' } }, 'auth.user must not contain ":"'],
    ['auth as a string', { auth: 'admin:secret' }, 'auth must be { user, password } or a function'],
  ])('refuses %s, saying what to add', (_case, options, problem) => {
    const message = refusal(options);
    expect(message).toMatch(/^KeplarsDashboardModule cannot start:\n/);
    expect(message).toContain(problem);
    if (problem.startsWith('auth is not set')) {
      expect(message).toContain("Add auth: { user: 'admin', password: process.env.QUEUE_DASHBOARD_PASSWORD } (HTTP basic auth), or auth: (request) => yourCheck(request)");
    }
  });

  it('never prints the password, even when refusing', () => {
    expect(refusal({ auth: { user: 'admin', password: 'hunter2-secret' }, path: '/' })).not.toContain('hunter2-secret');
  });

  it.each([
    ['the root', '/', 'path must not be the root'],
    ['an empty path', '', 'path must not be the root'],
    ['a route parameter', '/admin/:tenant', 'no parameters or wildcards'],
    ['a wildcard', '/admin/*', 'no parameters or wildcards'],
  ])('refuses %s as the path', (_case, path, problem) => {
    expect(refusal({ auth: { user: 'admin', password: 'x' }, path })).toContain(problem);
  });

  it('lists every problem at once, and an unknown option by name', () => {
    const message = refusal({ auth: { user: '', password: '' }, readonly: true, title: '' });
    expect(message).toContain('unknown option "readonly". The options are: auth, path, readOnly, title, enabled.');
    expect(message).toContain('auth.user must be');
    expect(message).toContain('auth.password is empty');
    expect(message).toContain('title must be a non-empty string');
  });

  it('needs no auth when turned off (enabled: false), and still checks the rest', () => {
    expect(resolveDashboardOptions({ enabled: false, auth: undefined })).toEqual({ enabled: false, path: '/admin/queues' });
    expect(refusal({ enabled: false, auth: undefined, path: '/' })).toContain('path must not be the root');
    expect(refusal({ enabled: 'no', auth: undefined })).toContain('enabled must be true or false');
  });
});
