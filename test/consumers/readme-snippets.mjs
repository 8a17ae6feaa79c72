// Every TypeScript snippet of the README and the guides in docs/, ready to compile in a consumer app (issue 11, point 2): what the
// READMEs show must compile under a starter's strict settings, on NestJS 11 (CommonJS) and 12 (ES modules).
//
// A snippet is a fenced block whose info string starts with `ts` (or `typescript`). Words after it say
// where it is compiled (write them after the language, e.g. ```ts nocompile):
//   (none)      in the CommonJS app and in the ES module app;
//   commonjs    only in the CommonJS app (e.g. a Jest test with extensionless relative imports);
//   esm         only in the ES module app (e.g. a Vitest test with `.js` relative imports);
//   nocompile   never: a deliberately partial snippet (say in the text around it that it is partial).
// A snippet whose first line is `// path/to/file.ts` is that file: it is compiled at that path, and the
// other snippets of its README can import it (`import { X } from './x.service'`). Any other snippet is
// compiled as a file of its own. Each snippet gets a folder of its own, holding the README's other
// declared files too, so two snippets that both show `src/app.module.ts` do not collide.
//
// The apps compiling them have the packages the snippets import (NestJS, @nestjs/config, @nestjs/testing,
// @nestjs/terminus, @nestjs/platform-fastify, OpenTelemetry's API and metrics SDK, pg, TypeORM and @nestjs/typeorm, Jest's types or Vitest): a snippet that imports
// another package needs it added to both apps' package.json (test/consumers/apps/cjs-nest11-express and
// esm-nest12-express).
//
// ES module apps write `.js` at the end of relative imports; the snippets are written for the CommonJS
// starter (no extension), so for the ES module app the extension is added to extensionless relative
// imports. A snippet that imports with `.js` already compiles in both.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guideFiles } from '../../scripts/markdown-links.mjs';

/** The README (also the package's) and every guide in docs/: every code block a user reads is checked. */
export const READMES = guideFiles(resolve(dirname(fileURLToPath(import.meta.url)), '../..'));
const KINDS = ['commonjs', 'esm'];
const FENCE = /^(\s*)(`{3,})(\S*)[ \t]*(.*)$/;

/** The snippets of one README's text: `{ readme, line, lang, flags, path, code }`, in order. */
export function parseSnippets(readme, text) {
  const lines = text.split('\n');
  const snippets = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j].trim().startsWith(fence) && lines[j].trim().replace(/`/g, '') === '')) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
      j++;
    }
    if (lang === 'ts' || lang === 'typescript') {
      const flags = rest.split(/[\s,]+/).filter(Boolean);
      const unknown = flags.filter((flag) => flag !== 'nocompile' && !KINDS.includes(flag));
      if (unknown.length > 0) throw new Error(`${readme}:${i + 1}: unknown snippet marker "${unknown.join(' ')}" (use commonjs, esm or nocompile)`);
      const declared = /^\/\/\s*((?:[\w.-]+\/)*[\w.-]+\.ts)\b/.exec(body[0] ?? '')?.[1];
      snippets.push({ readme, line: i + 1, flags, path: declared, code: body.join('\n') + '\n' });
    }
    i = j;
  }
  return snippets;
}

/** The snippets of every README that are compiled in an app of this kind ('commonjs' or 'esm'). */
export function snippetsFor(root, kind) {
  return READMES.flatMap((readme) => parseSnippets(readme, readFileSync(join(root, readme), 'utf8'))).filter(
    (snippet) => !snippet.flags.includes('nocompile') && (!snippet.flags.some((flag) => KINDS.includes(flag)) || snippet.flags.includes(kind)),
  );
}

/** For an ES module app: `from './x'` becomes `from './x.js'`. */
export function withEsmExtensions(code) {
  return code.replace(/(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\2/g, (match, before, quote, specifier) =>
    /\.[cm]?js$/.test(specifier) ? match : `${before}${quote}${specifier}.js${quote}`,
  );
}

/**
 * Writes each snippet into `dir/<readme>-L<line>/`, its declared path or `snippet.ts`, over a layer of
 * the README's declared files (the last declaration of a path wins). Returns the folders written.
 */
export function writeSnippets(snippets, dir, kind) {
  const adapt = (code) => (kind === 'esm' ? withEsmExtensions(code) : code);
  const declared = new Map();
  for (const snippet of snippets) if (snippet.path) declared.set(`${snippet.readme}\0${snippet.path}`, snippet);
  const folders = [];
  for (const snippet of snippets) {
    const folder = join(dir, `${snippet.readme.replace(/[/.]/g, '_')}-L${snippet.line}`);
    const own = snippet.path ?? 'snippet.ts';
    for (const [key, other] of declared) {
      if (key.startsWith(`${snippet.readme}\0`) && other.path !== own) write(join(folder, other.path), adapt(other.code));
    }
    write(join(folder, own), adapt(snippet.code));
    folders.push(folder);
  }
  return folders;
}

/**
 * The snippet declaring `path` in `readme`, and every declared file it imports relatively, transitively:
 * what an app needs to run that snippet. Keyed by path.
 */
export function withRelativeImports(snippets, readme, path) {
  const byPath = new Map(snippets.filter((snippet) => snippet.readme === readme && snippet.path).map((snippet) => [snippet.path, snippet]));
  const files = new Map();
  const pending = [path];
  while (pending.length > 0) {
    const current = pending.pop();
    if (files.has(current)) continue;
    const snippet = byPath.get(current);
    if (!snippet) throw new Error(`${readme} has no snippet that starts with "// ${current}"`);
    files.set(current, snippet);
    for (const [, specifier] of snippet.code.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      pending.push(posix.join(posix.dirname(current), specifier.replace(/\.js$/, '')) + '.ts');
    }
  }
  return files;
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
