// The layer rules (.dependency-cruiser.cjs, `npm run check:layers`) can fail: each is broken once in a
// copy of the library, and the checker must name exactly the rule broken, where. Without this, a
// typo in a rule's path or an import the checker cannot resolve would let every rule pass in silence.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('../../', import.meta.url));
const SRC = 'libs/keplars-webhook/src';

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

/** A copy of the library (with the repository's config and dependencies) to break. */
function copyOfLibrary(): string {
  const root = mkdtempSync(join(tmpdir(), 'keplars-layers-'));
  cpSync(join(repository, SRC), join(root, SRC), { recursive: true });
  cpSync(join(repository, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
  cpSync(join(repository, 'tsconfig.json'), join(root, 'tsconfig.json'));
  cpSync(join(repository, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(repository, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

function cruise(root: string): Violation[] {
  const bin = join(repository, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const run = spawnSync(process.execPath, [bin, SRC, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (!run.stdout) throw new Error(`dependency-cruiser did not run: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const at = (file: string) => `${SRC}/${file}`;

describe('the layer rules (npm run check:layers)', () => {
  let root: string;

  beforeAll(() => {
    root = copyOfLibrary();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('find nothing in the library as it is', () => {
    expect(cruise(root)).toEqual([]);
  }, 60_000);

  it('name each rule broken, and where', () => {
    const breakFile = (file: string, line: string) => appendFileSync(join(root, SRC, file), `\n${line}\n`);
    // A type-only import ties a layer as much as a value does.
    breakFile('core/1-verify/keplars-signature.ts', "import type { LoggerService } from '@nestjs/common';");
    breakFile('adapters/redis-store/redis-idempotency.store.ts', "import '../memory-store/event-locks.js';");
    breakFile('adapters/memory-store/event-locks.ts', "import 'ioredis';");
    breakFile('core/2-read/nesting-depth.ts', "import '../4-deliver/event-key.js';");
    breakFile('core/ports/log.ts', "import '../1-verify/signed-delivery-clock.js';");
    breakFile('core/2-read/keplars-payload.dto.ts', "import '../../nest/options/keplars-webhook.constants.js';");
    writeFileSync(join(root, SRC, 'core/support/circle-a.ts'), "import './circle-b.js';\nexport const a = 1;\n");
    writeFileSync(join(root, SRC, 'core/support/circle-b.ts'), "import './circle-a.js';\nexport const b = 1;\n");
    breakFile('nest/log/refusal-log.ts', "import '../http/keplars-route-mark.js';"); // nest/http already imports nest/log
    breakFile('core/0-event/keplars-event.ts', "import './no-such-file.js';");

    const found = cruise(root).map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`);

    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^core-is-framework-free: .*core\/1-verify\/keplars-signature\.ts → node_modules\/@nestjs\/common\//),
        `adapter-imports-core-only: ${at('adapters/redis-store/redis-idempotency.store.ts')} → ${at('adapters/memory-store/event-locks.ts')}`,
        expect.stringMatching(/^memory-store-uses-its-own-driver: .*adapters\/memory-store\/event-locks\.ts → node_modules\/ioredis\//),
        `core-steps-in-order-2-read: ${at('core/2-read/nesting-depth.ts')} → ${at('core/4-deliver/event-key.ts')}`,
        `ports-name-no-step: ${at('core/ports/log.ts')} → ${at('core/1-verify/signed-delivery-clock.ts')}`,
        `nest-is-the-outer-shell: ${at('core/2-read/keplars-payload.dto.ts')} → ${at('nest/options/keplars-webhook.constants.ts')}`,
        `no-circular-files: ${at('core/support/circle-a.ts')} → ${at('core/support/circle-b.ts')}`,
        expect.stringMatching(/^no-circular-folders: .*src\/nest\/(log|http) → .*src\/nest\/(http|log)$/),
        `resolvable: ${at('core/0-event/keplars-event.ts')} → ./no-such-file.js`,
      ]),
    );
    // Nothing else: each break trips its own rule (and the core's, where an import leaves the core).
    const rules = new Set(found.map((line) => line.slice(0, line.indexOf(':'))));
    expect([...rules].sort()).toEqual(
      [
        'adapter-imports-core-only',
        'core-is-framework-free',
        'core-steps-in-order-2-read',
        'memory-store-uses-its-own-driver',
        'nest-is-the-outer-shell',
        'no-circular-files',
        'no-circular-folders',
        'ports-name-no-step',
        'resolvable',
      ].sort(),
    );
  }, 60_000);
});
