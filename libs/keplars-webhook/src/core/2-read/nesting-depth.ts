/**
 * How deeply a webhook body may nest objects and arrays, the body itself being level 1. Keplars'
 * payloads use 3 levels plus whatever metadata the sender attached; the limit keeps every later step
 * (class-transformer, the derived event id, the user's handlers) far from the call stack's limit,
 * where a signed body thousands of levels deep would otherwise end in a 500.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Whether a parsed JSON value nests objects or arrays more than `limit` levels deep. It recurses at
 * most `limit` calls deep, so it is safe on any input, and it stops at the first level too many.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, limit - 1)) return true;
    return false;
  }
  // JSON.parse makes only own, enumerable properties (a "__proto__" key included), which `for…in` visits.
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}
