import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The version of the copy of `packageName` that this package's own `import()` loads (resolved from
 * this file, as Node resolves it), or `undefined` if it is not installed or has no readable version.
 * Read from its package.json, found by walking up from its entry point: bull-board's `exports` do
 * not list `./package.json`.
 */
export function installedPackageVersion(packageName: string): string | undefined {
  const anchor = thisFile();
  if (anchor === undefined) return undefined;
  let entry: string;
  try {
    entry = createRequire(anchor).resolve(packageName);
  } catch {
    return undefined;
  }
  for (let directory = dirname(entry); directory !== dirname(directory); directory = dirname(directory)) {
    let manifest: { name?: unknown; version?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    } catch {
      continue; // no package.json here, or not this package's
    }
    if (manifest.name === packageName) return typeof manifest.version === 'string' ? manifest.version : undefined;
  }
  return undefined;
}

/**
 * This file's path or file URL. The same source is compiled to ES modules (where only
 * `import.meta.url` says it) and to CommonJS (where only `__filename` does), and neither form
 * compiles in the other; V8's call sites name the file in both.
 */
function thisFile(): string | undefined {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const callSites = new Error().stack as unknown as NodeJS.CallSite[] | undefined;
    return callSites?.[0]?.getFileName() ?? undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}
