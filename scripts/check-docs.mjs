#!/usr/bin/env node
// Checks the front door and the guides (README.md, docs/*.md), as part of `npm test`:
//   - every relative link names a file that exists, and every #anchor a heading of that file;
//   - no guide sends a package user into apps/ or test/ for something they must write: those folders
//     are not in the npm package. Only the guides about this repository itself may point there;
//   - the README stays a front door: under 300 lines;
//   - the package's README (made from README.md by scripts/build-package.mjs) has no relative link left.
// Prints each problem with its file and line, and exits 1 if there is any.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorsOf, guideFiles, isExternal, linksOf, packageReadme, proseLinesWithCode } from './markdown-links.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Guides about the repository rather than the package: they may point at the sample, the tests, the benchmark. */
const ABOUT_THE_REPOSITORY = new Set(['docs/sample-app.md', 'docs/performance.md', 'docs/how-it-is-built.md']);
const NOT_IN_THE_PACKAGE = /^(apps|test)\//;
const README_MAX_LINES = 300;

const problems = [];
const texts = new Map(guideFiles(root).map((path) => [path, readFileSync(join(root, path), 'utf8')]));
const anchors = new Map();
const anchorsIn = (path) => {
  if (!anchors.has(path)) anchors.set(path, anchorsOf(texts.get(path) ?? readFileSync(join(root, path), 'utf8')));
  return anchors.get(path);
};

for (const [path, text] of texts) {
  for (const { line, target } of linksOf(text)) {
    if (isExternal(target)) continue;
    const where = `${path}:${line}`;
    const [file, anchor] = target.split('#');
    const linked = file === '' ? path : posix.normalize(posix.join(posix.dirname(path), file));
    if (linked.startsWith('..')) {
      problems.push(`${where}: "${target}" leaves the repository`);
      continue;
    }
    if (!existsSync(join(root, linked))) {
      problems.push(`${where}: "${target}" names ${linked}, which does not exist`);
      continue;
    }
    if (NOT_IN_THE_PACKAGE.test(linked) && !ABOUT_THE_REPOSITORY.has(path)) {
      problems.push(`${where}: "${target}" points into ${linked.split('/')[0]}/, which the package does not ship: show the code in the guide instead`);
    }
    if (anchor !== undefined && linked.endsWith('.md') && statSync(join(root, linked)).isFile() && !anchorsIn(linked).has(anchor)) {
      problems.push(`${where}: "${target}": ${linked} has no heading with the anchor #${anchor}`);
    }
  }
}

// A path written out in prose (`apps/sample/src/…`) points as much as a link does.
for (const [path, text] of texts) {
  if (ABOUT_THE_REPOSITORY.has(path)) continue;
  for (const [line, prose] of proseLinesWithCode(text)) {
    for (const [, named] of prose.matchAll(/`((?:apps|test)\/[^`\s]*)`/g)) {
      if (existsSync(join(root, named.replace(/[/:].*$/, (rest) => rest.split(':')[0])))) {
        problems.push(`${path}:${line}: \`${named}\` names a file of this repository's ${named.split('/')[0]}/, which the package does not ship: show the code in the guide instead`);
      }
    }
  }
}

const readme = texts.get('README.md');
const lines = readme.split('\n').length;
if (lines > README_MAX_LINES) problems.push(`README.md: ${lines} lines; the front door stays under ${README_MAX_LINES}: move detail into a guide in docs/`);
for (const { line, target } of linksOf(packageReadme(readme))) {
  if (!isExternal(target) && !target.startsWith('#')) problems.push(`the package's README, line ${line}: "${target}" is still relative (npm shows no guide)`);
}

if (problems.length > 0) {
  console.error(`check-docs: ${problems.length} problem(s) in README.md and docs/:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-docs: ${texts.size} files, every link resolves, none sends a package user into apps/ or test/; README.md ${lines} lines`);
