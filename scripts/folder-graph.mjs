// `npm run -s layers:graph`: the library's imports counted between folders (each folder under
// libs/keplars-webhook/src, by its path), and the folders that form a circle (a strongly connected set:
// from any of them an import path leads to every other and back). The layer rules keep that list empty;
// this prints the picture behind them, and works on any layout of src (run it on an old commit too).
import { cruise } from 'dependency-cruiser';
import { dirname, relative } from 'node:path';

const SRC = process.argv[2] ?? 'libs/keplars-webhook/src';

const result = await cruise([SRC], {
  tsPreCompilationDeps: true,
  doNotFollow: { path: 'node_modules' },
  exclude: { path: '\\.spec\\.ts$' },
  tsConfig: { fileName: 'tsconfig.json' },
  enhancedResolveOptions: { extensions: ['.ts', '.js'] },
});

const folderOf = (file) => relative(SRC, dirname(file)) || '.';
/** from folder → to folder → number of imports */
const edges = new Map();
for (const module of result.output.modules) {
  if (!module.source.startsWith(SRC)) continue;
  const from = folderOf(module.source);
  for (const dependency of module.dependencies) {
    if (!dependency.resolved.startsWith(SRC)) continue;
    const to = folderOf(dependency.resolved);
    if (to === from) continue;
    const targets = edges.get(from) ?? new Map();
    targets.set(to, (targets.get(to) ?? 0) + 1);
    edges.set(from, targets);
  }
}

const folders = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((targets) => [...targets.keys()])])].sort();
let total = 0;
console.log(`Imports between the folders of ${SRC}:`);
for (const from of folders) {
  const targets = edges.get(from);
  if (!targets) continue;
  const list = [...targets].sort(([a], [b]) => a.localeCompare(b)).map(([to, count]) => `${to} ${count}`);
  total += [...targets.values()].reduce((sum, count) => sum + count, 0);
  console.log(`  ${from} → ${list.join(', ')}`);
}

// Tarjan's strongly connected components over the folder graph.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
let counter = 0;
function visit(folder) {
  index.set(folder, counter);
  low.set(folder, counter);
  counter++;
  stack.push(folder);
  onStack.add(folder);
  for (const next of edges.get(folder)?.keys() ?? []) {
    if (!index.has(next)) {
      visit(next);
      low.set(folder, Math.min(low.get(folder), low.get(next)));
    } else if (onStack.has(next)) low.set(folder, Math.min(low.get(folder), index.get(next)));
  }
  if (low.get(folder) === index.get(folder)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== folder);
    if (component.length > 1) components.push(component.sort());
  }
}
for (const folder of folders) if (!index.has(folder)) visit(folder);

const pairs = folders.flatMap((a) => [...(edges.get(a)?.keys() ?? [])].filter((b) => a < b && edges.get(b)?.has(a)).map((b) => `${a} ↔ ${b}`));
console.log(`${folders.length} folders, ${total} imports between them; folders importing each other: ${pairs.length ? pairs.join(', ') : 'none'}`);
console.log(
  components.length === 0
    ? 'No circle between folders.'
    : `Circles between folders: ${components.map((component) => `{${component.join(', ')}} (${component.length})`).join('; ')}`,
);
