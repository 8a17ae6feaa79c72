import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// docs/operations.md shows code and a scrape that tests here run and produce: these read and rewrite
// its blocks, so the guide and what is tested cannot drift. `npm run docs:operations` rewrites them
// (KEPLARS_WRITE_DOCS=1); `npm test` fails when they differ.

const REPOSITORY = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const GUIDE_PATH = 'docs/operations.md';

/** Whether the tests rewrite the guide's blocks instead of comparing them (npm run docs:operations). */
export const WRITE_DOCS = process.env['KEPLARS_WRITE_DOCS'] === '1';

/** A fenced block of the guide: where its content lines are, and the content. */
interface Block {
  readonly from: number;
  readonly to: number;
  readonly content: string;
}

export function readGuide(): string {
  return readFileSync(join(REPOSITORY, GUIDE_PATH), 'utf8');
}

export function readRepositoryFile(path: string): string {
  return readFileSync(join(REPOSITORY, path), 'utf8');
}

/** The fenced block that `find` picks by its opening line's index, or an error naming what is missing. */
function block(text: string, find: (lines: readonly string[]) => number, what: string): Block {
  const lines = text.split('\n');
  const open = find(lines);
  if (open < 0 || !lines[open]!.startsWith('```')) throw new Error(`${GUIDE_PATH} has no ${what}`);
  const close = lines.findIndex((line, index) => index > open && line === '```');
  if (close < 0) throw new Error(`${GUIDE_PATH}: the ${what} is not closed`);
  return { from: open + 1, to: close, content: lines.slice(open + 1, close).join('\n') + '\n' };
}

/** The code block whose first line is `firstLine` (a snippet declaring its file, `// src/x.ts`). */
export function snippetBlock(text: string, declaredPath: string): Block {
  return block(text, (lines) => lines.findIndex((line, index) => line.startsWith('```ts') && lines[index + 1]?.startsWith(`// ${declaredPath}`)), `ts block starting "// ${declaredPath}"`);
}

/** The fenced block right after the HTML comment `<!-- marker … -->`. */
export function markedBlock(text: string, marker: string): Block {
  return block(text, (lines) => {
    const comment = lines.findIndex((line) => line.startsWith(`<!-- ${marker}`));
    return comment < 0 ? -1 : comment + 1;
  }, `block after "<!-- ${marker}"`);
}

/** The guide with one block's content replaced, written back. */
export function rewriteBlock(found: (text: string) => Block, content: string): void {
  const text = readGuide();
  const { from, to } = found(text);
  const lines = text.split('\n');
  lines.splice(from, to - from, ...content.replace(/\n$/, '').split('\n'));
  writeFileSync(join(REPOSITORY, GUIDE_PATH), lines.join('\n'));
}
