#!/usr/bin/env node
// Builds the publishable npm package into dist/package, ready for `npm pack` or `npm publish`:
//
//   npm run build:package && cd dist/package && npm pack
//
// It compiles the library twice with `npm run build:lib`, into a fresh folder (so no file of a deleted
// source survives): as ES modules at the package's root, and as CommonJS under cjs/ (with a
// cjs/package.json saying so), which `exports` hands to `require()`. CommonJS apps, and Jest's own
// CommonJS loader, then need no `require(esm)` and no transformIgnorePatterns. Each build carries its
// declarations, the same text: TypeScript reads a .d.ts's format from the nearest package.json, so the
// ES module declarations alone would be wrong for `require()` under "module": "nodenext".
// Tokens and metadata keys are global (Symbol.for, strings), so an app that loads both builds works.
// Then it copies into dist/package only what the package's entry points reach: the .js files
// that `exports` and `bin` load, and the .d.ts files that `exports`' types refer to, following their
// relative imports (`import` and `require`). No test, no source map, no TypeScript source, no declaration of the CLI's
// internals. It adds libs/keplars-webhook/{package.json, CHANGELOG.md, LICENSE} and the repository's
// README.md (without its repository-only part, its links to the guides made absolute), makes the
// CLI executable, and refuses to finish if the package would be broken: an entry point or bin that does
// not exist, a relative import of a file that is missing, a runtime import of a package that
// package.json does not declare, or a CHANGELOG without the version being released.
//
// Source maps are left out on purpose: they would point at TypeScript sources the package does not
// ship, which only makes bundlers and debuggers print warnings.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageReadme } from './markdown-links.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const libDir = join(root, 'libs/keplars-webhook');
const compiledDir = join(root, 'dist/.package-build');
const outDir = join(root, 'dist/package');
const PACKAGE_FILES = ['package.json', 'CHANGELOG.md', 'LICENSE'];
const CJS_DIR = 'cjs';

const problems = [];
const fail = (message) => problems.push(message);
const manifest = JSON.parse(readFileSync(join(libDir, 'package.json'), 'utf8'));

// 1. Compile, with the library's own tsconfig, into a clean folder: ES modules, then CommonJS.
rmSync(compiledDir, { recursive: true, force: true });
rmSync(outDir, { recursive: true, force: true });
const builds = [
  ['ES modules', []],
  // module commonjs also turns the optional peers' `await import()` into require(), which Jest's
  // CommonJS loader can run.
  ['CommonJS', ['--outDir', join(compiledDir, CJS_DIR), '--module', 'commonjs', '--moduleResolution', 'bundler']],
];
for (const [format, flags] of builds) {
  console.log(`build-package: compiling the library as ${format} (npm run build:lib)…`);
  try {
    execFileSync('npm', ['run', '--silent', 'build:lib', '--', '--outDir', compiledDir, '--sourceMap', 'false', ...flags], { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`\nbuild-package: FAILED: the library does not compile as ${format} (TypeScript errors above). Nothing was written to dist/package.`);
    process.exit(1);
  }
}
writeFileSync(join(compiledDir, CJS_DIR, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

// 2. Copy what the entry points reach, checking every import on the way.
const entryPoints = [
  ['main', manifest.main],
  ['types', manifest.types],
  ...Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => exportTargets(`exports["${subpath}"]`, target)),
  ...Object.entries(manifest.bin ?? {}).map(([name, file]) => [`bin "${name}"`, file]),
].filter(([, file]) => file !== undefined && file !== './package.json');

const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
const builtins = new Set(builtinModules);
const shipped = new Set();
const pending = [];
for (const [field, file] of entryPoints) {
  const path = normalize(file);
  if (existsSync(join(compiledDir, path))) pending.push(path);
  else fail(`package.json ${field} points at ${file}, which the build did not produce (is its source, src/${file.replace(/^\.\//, '').replace(/\.(d\.ts|js)$/, '.ts')}, there?).`);
}
while (pending.length > 0) {
  const file = pending.pop();
  if (shipped.has(file)) continue;
  shipped.add(file);
  for (const specifier of importsOf(readFileSync(join(compiledDir, file), 'utf8'))) {
    if (specifier.startsWith('.')) {
      // A .d.ts names its neighbours by their .js path.
      const target = normalize(join(dirname(file), file.endsWith('.d.ts') ? specifier.replace(/\.js$/, '.d.ts') : specifier));
      if (existsSync(join(compiledDir, target))) pending.push(target);
      else fail(`${file} imports ${specifier}, which the build did not produce.`);
      continue;
    }
    if (specifier.startsWith('node:') || builtins.has(specifier) || specifier.split('/')[0] === manifest.name) continue;
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
    if (!declared.has(name)) fail(`${file} imports "${specifier}", but package.json declares no "${name}": add it to dependencies or peerDependencies.`);
  }
}
shipped.add(join(CJS_DIR, 'package.json'));
if (!(manifest.files ?? []).includes(`${CJS_DIR}/package.json`)) {
  fail(`package.json "files" must list "${CJS_DIR}/package.json": without it npm leaves it out, and Node reads ${CJS_DIR}/*.js as ES modules.`);
}
if (![...shipped].some((file) => file.startsWith(`${CJS_DIR}/`) && file.endsWith('.js'))) {
  fail(`no entry point reaches the CommonJS build in ${CJS_DIR}/: give each "exports" entry a "require" condition.`);
}
for (const file of shipped) {
  if (/\.(spec|test|e2e-spec)\.(js|d\.ts)$/.test(file)) fail(`${file} is a test, and an entry point reaches it.`);
  mkdirSync(dirname(join(outDir, file)), { recursive: true });
  cpSync(join(compiledDir, file), join(outDir, file));
}
rmSync(compiledDir, { recursive: true, force: true });

for (const file of PACKAGE_FILES) {
  if (existsSync(join(libDir, file))) cpSync(join(libDir, file), join(outDir, file));
  else fail(`libs/keplars-webhook/${file} is missing; every release ships it.`);
}
// One README for the repository and the package: npm shows the same front door, pointing at the guides.
writeFileSync(join(outDir, 'README.md'), packageReadme(readFileSync(join(root, 'README.md'), 'utf8')));

// 3. The CLI must be runnable, and the CHANGELOG must describe this version.
for (const [name, file] of Object.entries(manifest.bin ?? {})) {
  const path = join(outDir, file);
  if (!existsSync(path)) continue; // already reported
  if (!readFileSync(path, 'utf8').startsWith('#!')) fail(`bin "${name}" (${file}) has no "#!/usr/bin/env node" first line: the shell could not run it.`);
  chmodSync(path, 0o755);
}
const changelogPath = join(libDir, 'CHANGELOG.md');
const version = manifest.version.replaceAll('.', '\\.');
if (existsSync(changelogPath) && !new RegExp(`^## \\[?${version}\\]?`, 'm').test(readFileSync(changelogPath, 'utf8'))) {
  fail(`CHANGELOG.md has no "## [${manifest.version}]" section for the version in package.json.`);
}

if (problems.length > 0) {
  console.error(`\nbuild-package: FAILED: dist/package would be a broken package:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  process.exit(1);
}
const files = listFiles(outDir);
const bytes = files.reduce((sum, file) => sum + statSync(join(outDir, file)).size, 0);
console.log(
  `build-package: ${manifest.name}@${manifest.version} is ready in ${relative(root, outDir)}/ ` +
    `(${files.length} files, ${(bytes / 1024).toFixed(1)} kB unpacked). Next: cd ${relative(root, outDir)} && npm pack`,
);

/**
 * The module specifiers a compiled file imports, requires or re-exports, statically or dynamically.
 * Comments are skipped: JSDoc examples show imports too (of this package, of @nestjs/config…).
 */
function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  return [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g)].map((match) => match[2]);
}

/** Every file an `exports` entry names, through nested conditions, with where it is named. */
function exportTargets(field, target) {
  if (typeof target === 'string') return [[field, target]];
  if (target === null || typeof target !== 'object') return [];
  return Object.entries(target).flatMap(([condition, nested]) => exportTargets(`${field}.${condition}`, nested));
}

/** Every file under `dir`, as paths relative to it. */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}
