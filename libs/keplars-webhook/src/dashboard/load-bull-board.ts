import { KeplarsConfigurationError } from '../module/resolve-keplars-options.js';
import { BULL_BOARD_ADAPTERS, bullBoardVersionProblem, TESTED_BULL_BOARD_VERSION, type BullBoardVersions } from './bull-board-versions.js';
import { installedPackageVersion } from './installed-package-version.js';

/** What the dashboard uses of bull-board, for one HTTP adapter. */
export interface BullBoard {
  readonly createBullBoard: typeof import('@bull-board/api').createBullBoard;
  readonly BullMQAdapter: typeof import('@bull-board/api/bullMQAdapter').BullMQAdapter;
  /** `@bull-board/express`'s or `@bull-board/fastify`'s server adapter. */
  readonly createServerAdapter: () => BullBoardServerAdapter;
  /** The versions installed (checked to be one), for the startup log. */
  readonly versions: BullBoardVersions;
}

/** The part of bull-board's two server adapters the dashboard touches, beside what `createBullBoard` calls. */
export type BullBoardServerAdapter =
  | { readonly kind: 'express'; readonly adapter: import('@bull-board/express').ExpressAdapter }
  | { readonly kind: 'fastify'; readonly adapter: import('@bull-board/fastify').FastifyAdapter };

/**
 * Loads bull-board (optional peers: only an app with the dashboard installs them) for Express or
 * Fastify, and refuses to go on with an API and an adapter of different versions.
 */
export async function loadBullBoard(http: 'express' | 'fastify'): Promise<BullBoard> {
  const adapterPackage = BULL_BOARD_ADAPTERS[http];
  const versions: BullBoardVersions = { api: installedPackageVersion('@bull-board/api'), adapter: adapterPackage, adapterVersion: installedPackageVersion(adapterPackage) };
  const missing = (error: unknown) => {
    const version = versions.adapterVersion ?? versions.api ?? TESTED_BULL_BOARD_VERSION;
    return new KeplarsConfigurationError(
      [
        `the dashboard on ${http === 'express' ? 'Express' : 'Fastify'} needs @bull-board/api and ${adapterPackage}, at one version ` +
          `(${String((error as Error)?.message ?? error).split('\n')[0]}): npm install @bull-board/api@${version} ${adapterPackage}@${version}`,
      ],
      'KeplarsDashboardModule',
    );
  };
  let api: typeof import('@bull-board/api');
  let queueAdapters: typeof import('@bull-board/api/bullMQAdapter');
  let createServerAdapter: () => BullBoardServerAdapter;
  try {
    api = await import('@bull-board/api');
    queueAdapters = await import('@bull-board/api/bullMQAdapter');
    if (http === 'express') {
      const { ExpressAdapter } = await import('@bull-board/express');
      createServerAdapter = () => ({ kind: 'express', adapter: new ExpressAdapter() });
    } else {
      const { FastifyAdapter } = await import('@bull-board/fastify');
      createServerAdapter = () => ({ kind: 'fastify', adapter: new FastifyAdapter() });
    }
  } catch (error) {
    throw missing(error);
  }
  const problem = bullBoardVersionProblem(versions);
  if (problem) throw new KeplarsConfigurationError([problem], 'KeplarsDashboardModule');
  return { createBullBoard: api.createBullBoard, BullMQAdapter: queueAdapters.BullMQAdapter, createServerAdapter, versions };
}
