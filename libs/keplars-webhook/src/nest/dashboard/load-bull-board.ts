import { BULL_BOARD_ADAPTERS, bullBoardVersionProblem, TESTED_BULL_BOARD_VERSION, type BullBoardVersions } from './bull-board-versions.js';
import { installedPackageVersion } from './installed-package-version.js';
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';

/** What the dashboard uses of bull-board, for one HTTP adapter. */
export interface BullBoard {
  readonly createBullBoard: typeof import('@bull-board/api').createBullBoard;
  /** `@bull-board/express`'s or `@bull-board/fastify`'s server adapter. */
  readonly createServerAdapter: () => BullBoardServerAdapter;
  /** The versions installed (checked to be one), for the startup log. */
  readonly versions: BullBoardVersions;
}

/** The part of bull-board's two server adapters the dashboard touches, beside what `createBullBoard` calls. */
export type BullBoardServerAdapter =
  | { readonly kind: 'express'; readonly adapter: import('@bull-board/express').ExpressAdapter }
  | { readonly kind: 'fastify'; readonly adapter: import('@bull-board/fastify').FastifyAdapter };

export type BullMQQueueAdapter = typeof import('@bull-board/api/bullMQAdapter').BullMQAdapter;

/**
 * Loads bull-board (optional peers: only an app with the dashboard installs them) for Express or
 * Fastify. The versions are read and compared first, from the packages' manifests: two versions side
 * by side are refused with the install that fixes them, whatever else is missing.
 */
export async function loadBullBoard(http: 'express' | 'fastify'): Promise<BullBoard> {
  const adapterPackage = BULL_BOARD_ADAPTERS[http];
  const versions: BullBoardVersions = { api: installedPackageVersion('@bull-board/api'), adapter: adapterPackage, adapterVersion: installedPackageVersion(adapterPackage) };
  const problem = bullBoardVersionProblem(versions);
  if (problem) throw new KeplarsConfigurationError([problem], 'KeplarsDashboardModule');
  try {
    const api = await import('@bull-board/api');
    if (http === 'express') {
      const { ExpressAdapter } = await import('@bull-board/express');
      return { createBullBoard: api.createBullBoard, createServerAdapter: () => ({ kind: 'express', adapter: new ExpressAdapter() }), versions };
    }
    const { FastifyAdapter } = await import('@bull-board/fastify');
    return { createBullBoard: api.createBullBoard, createServerAdapter: () => ({ kind: 'fastify', adapter: new FastifyAdapter() }), versions };
  } catch (error) {
    const version = versions.adapterVersion ?? versions.api ?? TESTED_BULL_BOARD_VERSION;
    throw new KeplarsConfigurationError(
      [
        `the dashboard on ${http === 'express' ? 'Express' : 'Fastify'} needs @bull-board/api and ${adapterPackage}, at one version ` +
          `(${firstLine(error)}): npm install @bull-board/api@${version} ${adapterPackage}@${version}`,
      ],
      'KeplarsDashboardModule',
    );
  }
}

/** bull-board's BullMQ queue adapter; it loads `bullmq`, there once queue mode runs. */
export async function loadBullMQQueueAdapter(): Promise<BullMQQueueAdapter> {
  return (await import('@bull-board/api/bullMQAdapter')).BullMQAdapter;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0] ?? '';
}
