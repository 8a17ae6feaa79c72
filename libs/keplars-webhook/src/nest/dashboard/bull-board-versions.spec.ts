import { readFileSync } from 'node:fs';
import { bullBoardVersionProblem, TESTED_BULL_BOARD_VERSION } from './bull-board-versions.js';
import { installedPackageVersion } from './installed-package-version.js';

const root = new URL('../../../../../', import.meta.url);
const manifest = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

describe('bullBoardVersionProblem', () => {
  it('names both versions and the npm install that fixes them, at the adapter\'s version', () => {
    expect(bullBoardVersionProblem({ api: '9.10.2', adapter: '@bull-board/express', adapterVersion: '9.10.1' })).toBe(
      "@bull-board/api 9.10.2 and @bull-board/express 9.10.1 are installed, but bull-board's packages only work together at one version. " +
        'Install both at the same version: npm install @bull-board/api@9.10.1 @bull-board/express@9.10.1',
    );
    expect(bullBoardVersionProblem({ api: '9.9.0', adapter: '@bull-board/fastify', adapterVersion: '9.10.1' })).toContain('npm install @bull-board/api@9.10.1 @bull-board/fastify@9.10.1');
  });

  it('finds nothing wrong with one version, or when a version could not be read', () => {
    expect(bullBoardVersionProblem({ api: '9.10.1', adapter: '@bull-board/fastify', adapterVersion: '9.10.1' })).toBeUndefined();
    expect(bullBoardVersionProblem({ api: undefined, adapter: '@bull-board/express', adapterVersion: '9.10.1' })).toBeUndefined();
  });
});

describe('installedPackageVersion', () => {
  it('reads the installed version of a package whose exports hide its package.json (@bull-board/api) and of one that does not', () => {
    expect(installedPackageVersion('@bull-board/api')).toBe(manifest('node_modules/@bull-board/api/package.json').version);
    expect(installedPackageVersion('@bull-board/fastify')).toBe(manifest('node_modules/@bull-board/fastify/package.json').version);
  });

  it('is undefined for a package that is not installed', () => {
    expect(installedPackageVersion('@bull-board/koa')).toBeUndefined();
  });
});

describe('TESTED_BULL_BOARD_VERSION', () => {
  it('is the version of the three bull-board packages the repository installs and tests with', () => {
    const dependencies = manifest('package.json').dependencies;
    for (const name of ['@bull-board/api', '@bull-board/express', '@bull-board/fastify']) expect(dependencies[name]).toBe(TESTED_BULL_BOARD_VERSION);
  });
});
