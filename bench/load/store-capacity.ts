import { resolveKeplarsOptions } from '../../libs/keplars-webhook/src/nest/options/resolve-keplars-options.js';
import { BENCH_SECRET } from '../bench-config.js';

/**
 * How many events the module's memory store keeps with default options (`deduplication.maxEvents`):
 * the module is measured once that many have filled its store, in its steady state.
 */
export function defaultStoreCapacity(): number {
  const { store } = resolveKeplarsOptions({ secret: BENCH_SECRET }).deduplication!;
  return store.kind === 'memory' ? store.maxEvents : 0;
}
