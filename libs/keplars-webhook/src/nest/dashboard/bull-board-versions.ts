/** The bull-board version this package is tested with (the repository's own dependencies). */
export const TESTED_BULL_BOARD_VERSION = '9.10.1';

/** The bull-board server adapter for each of Nest's HTTP adapters. */
export const BULL_BOARD_ADAPTERS = { express: '@bull-board/express', fastify: '@bull-board/fastify' } as const;
export type BullBoardAdapterPackage = (typeof BULL_BOARD_ADAPTERS)[keyof typeof BULL_BOARD_ADAPTERS];

/** The installed versions of the two packages the dashboard loads (`undefined`: could not be read). */
export interface BullBoardVersions {
  readonly api: string | undefined;
  readonly adapter: BullBoardAdapterPackage;
  readonly adapterVersion: string | undefined;
}

/**
 * Why these bull-board packages cannot run together, or `undefined` when they can (or when a version
 * could not be read: nothing to compare). bull-board releases `@bull-board/api`, `/express`,
 * `/fastify` and `/ui` together, and each adapter depends on exactly its own version of the API: two
 * versions side by side are two copies of its classes (`TS2322 … separate declarations of a private
 * property 'formatters'` in an app's own code) and a UI served for another API. The fix names the
 * adapter's version: an adapter version always has its API version, not the other way round (the API
 * is sometimes released alone).
 */
export function bullBoardVersionProblem({ api, adapter, adapterVersion }: BullBoardVersions): string | undefined {
  if (api === undefined || adapterVersion === undefined || api === adapterVersion) return undefined;
  return (
    `@bull-board/api ${api} and ${adapter} ${adapterVersion} are installed, but bull-board's packages only work together at one version. ` +
    `Install both at the same version: npm install @bull-board/api@${adapterVersion} ${adapter}@${adapterVersion}`
  );
}
