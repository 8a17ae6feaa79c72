import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

export interface CostLine {
  readonly name: string;
  /** Share of the time the process was busy (idle excluded), 0..1. */
  readonly share: number;
  readonly micros: number;
}

export interface ProfileSummary {
  readonly samples: number;
  /** Time the process was busy (not waiting in the event loop), in microseconds. */
  readonly busyMicros: number;
  readonly idleMicros: number;
  /** Time spent in the function itself. */
  readonly self: readonly CostLine[];
  /** Time spent in the function and everything it called (each sample counted once per function). */
  readonly inclusive: readonly CostLine[];
  /** Self time by where the code lives: a package, this library, Node's internals, the engine. */
  readonly byOrigin: readonly CostLine[];
}

/** Reads a V8 CPU profile (`.cpuprofile`) and says where the busy time went. */
export function summariseCpuProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Each sample stands for the time since the previous one (hit counts would assume a steady interval).
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, index) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const idle = profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').reduce((sum, node) => sum + (timeOf.get(node.id) ?? 0), 0);
  const total = [...timeOf.values()].reduce((sum, micros) => sum + micros, 0) - idle;

  const self = new Map<string, number>();
  const origin = new Map<string, number>();
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === '(idle)') continue;
    add(self, frameName(node), timeOf.get(node.id) ?? 0);
    add(origin, originOf(node.callFrame.url, node.callFrame.functionName), timeOf.get(node.id) ?? 0);
  }

  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: ReadonlySet<string>): number => {
    const node = byId.get(id)!;
    const name = frameName(node);
    const inner = new Set(onStack).add(name);
    let hits = node.callFrame.functionName === '(idle)' ? 0 : (timeOf.get(id) ?? 0);
    for (const child of node.children ?? []) hits += walk(child, inner);
    if (!onStack.has(name)) add(inclusive, name, hits); // recursion: count a sample once per function
    return hits;
  };
  walk(profile.nodes[0]!.id, new Set());

  const ranked = (costs: Map<string, number>): CostLine[] =>
    [...costs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, share: micros / total, micros }));
  return {
    samples: profile.samples.length,
    busyMicros: total,
    idleMicros: idle,
    self: ranked(self),
    inclusive: ranked(inclusive),
    byOrigin: ranked(origin),
  };
}

function add(costs: Map<string, number>, key: string, hits: number): void {
  costs.set(key, (costs.get(key) ?? 0) + hits);
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return `(${functionName || 'anonymous'})`;
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (inPackage) return `${inPackage[1]}/${inPackage[2]}`;
  const inLibrary = /libs\/keplars-webhook\/src\/(.*)$/.exec(url);
  if (inLibrary) return `lib/${inLibrary[1]}`;
  const inBench = /bench\/(?:\.build\/bench\/)?(.*)$/.exec(url);
  if (inBench) return `bench/${inBench[1]}`;
  return url.replace(/^node:/, 'node:');
}

function originOf(url: string, functionName: string): string {
  if (!url) return functionName === '(garbage collector)' ? '(garbage collector)' : '(engine, native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.includes('libs/keplars-webhook/src/')) return 'this library';
  if (url.includes('/bench/')) return 'bench target code';
  if (url.startsWith('node:')) return 'node internals';
  return url;
}
