// The links of the repository's Markdown (README.md and the guides in docs/), read the way GitHub renders
// them: one place for the link check (scripts/check-docs.mjs) and for the package's README, which
// scripts/build-package.mjs makes from the repository's README.
import { existsSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';

/** Where the repository's files are read on the web: what a relative link becomes in the npm package. */
export const REPOSITORY_BLOB_URL = 'https://github.com/keplars-community/nestjs-keplars-webhook/blob/main/';

const REPOSITORY_ONLY = /<!-- repository-only:start[^>]*-->[\s\S]*?<!-- repository-only:end -->\n?/g;
const LINK = /(!?)\[((?:[^\][]|\[[^\]]*\])*)\]\(([^)\s]+)(\s+"[^"]*")?\)/g;
const FENCE = /^\s*(`{3,}|~{3,})/;

/** The Markdown files a reader of the repository reads: README.md, then docs/*.md. */
export function guideFiles(root) {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort() : [];
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Each line of `text` outside code blocks, with its number and its code spans blanked: links and headings live there. */
function* proseLines(text) {
  for (const [line, prose] of proseLinesWithCode(text)) yield [line, prose.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))];
}

/** Each line of `text` outside code blocks, with its number, code spans kept. */
export function* proseLinesWithCode(text) {
  let fence;
  for (const [index, line] of text.split('\n').entries()) {
    const open = FENCE.exec(line)?.[1];
    if (fence) {
      if (open && open[0] === fence[0] && open.length >= fence.length && line.trim() === open) fence = undefined;
      continue;
    }
    if (open) {
      fence = open;
      continue;
    }
    yield [index + 1, line];
  }
}

/** The links of a Markdown text: `{ line, target }`, images included, code blocks and spans left out. */
export function linksOf(text) {
  const links = [];
  for (const [line, prose] of proseLines(text)) for (const match of prose.matchAll(LINK)) links.push({ line, target: match[3] });
  return links;
}

/** The anchors GitHub gives the headings of a Markdown text (`## Several instances` → `several-instances`). */
export function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  for (const [, prose] of proseLines(text.replace(/`([^`]*)`/g, '$1'))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(prose)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(LINK, '$2')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** A link that leaves the repository (a URL, a mail address) rather than naming one of its files. */
export const isExternal = (target) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/**
 * The package's README, made from the repository's: the parts marked repository-only are left out, and
 * each relative link becomes a link to the file on the repository's web page, since the package ships
 * no guide. `readmePath` is the README's path in the repository.
 */
export function packageReadme(text, readmePath = 'README.md') {
  const kept = text.replace(REPOSITORY_ONLY, '');
  return kept.replace(LINK, (link, image, label, target, title = '') => {
    if (isExternal(target) || target.startsWith('#')) return link;
    const [path, anchor] = target.split('#');
    const file = posix.normalize(posix.join(posix.dirname(readmePath), path));
    return `${image}[${label}](${REPOSITORY_BLOB_URL}${file}${anchor === undefined ? '' : `#${anchor}`}${title})`;
  });
}
