import { Injectable, type INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { KeplarsWebhookModule, OnKeplarsEvent, type EmailOpenedEvent } from 'nestjs-keplars-webhook';
import { ADAPTERS, createWebhookApp } from '../support/webhook-app.js';

// Issue 22, points 5 and 9: what the guides tell a user to run or expect is what happens. The
// by-hand signing recipe of docs/testing.md is run as written (bash, openssl, curl) against a real app;
// the compile error docs/troubleshooting.md quotes is the one TypeScript gives for its snippet; and the
// link check (scripts/check-docs.mjs) passes on the guides as they are.

const root = fileURLToPath(new URL('../../', import.meta.url));
const guide = (path: string) => readFileSync(join(root, path), 'utf8');
const run = promisify(execFile);

/** The first fenced block of `lang` after the heading or text `after` in a guide (indentation removed). */
function blockAfter(text: string, after: string, lang: string): string {
  const start = text.indexOf(after);
  if (start === -1) throw new Error(`the guide has no "${after}"`);
  const fence = new RegExp(`^( *)\`\`\`${lang}[^\\n]*\\n([\\s\\S]*?)^\\1\`\`\``, 'm');
  const match = fence.exec(text.slice(start));
  if (!match) throw new Error(`no \`\`\`${lang} block after "${after}"`);
  const indent = match[1].length;
  return match[2]
    .split('\n')
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join('\n');
}

const SECRET = 'whsec_c2lnbmVkIGJ5IGhhbmQ='; // looks base64: the guide says it is used as it is

@Injectable()
class Opens {
  readonly seen: string[] = [];
  @OnKeplarsEvent('email.opened')
  onOpened(event: EmailOpenedEvent): void {
    this.seen.push(event.id);
  }
}

describe.each(ADAPTERS)('docs/testing.md, "Signing a request by hand", run as written on %s', (adapter) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await createWebhookApp({ adapter, imports: [KeplarsWebhookModule.forRoot(SECRET)], providers: [Opens] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('is answered 200 and handled once; the same request again is a duplicate', async () => {
    const script = blockAfter(guide('docs/testing.md'), '## Signing a request by hand', 'sh').replaceAll('http://localhost:3000', url);
    const env = { ...process.env, KEPLARS_WEBHOOK_SECRET: SECRET };

    const first = await run('bash', ['-euo', 'pipefail', '-c', script], { env });
    const again = await run('bash', ['-euo', 'pipefail', '-c', script], { env });

    expect(first.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(first.stdout.trimEnd().endsWith('{"received":true}')).toBe(true);
    expect(again.stdout.trimEnd().endsWith('{"received":true,"duplicate":true}')).toBe(true);
    expect(app.get(Opens).seen).toEqual(['evt_by_hand_1']);
  });
});

describe('docs/troubleshooting.md, the compile error of a mistyped handler', () => {
  it('quotes what TypeScript says of its snippet', () => {
    const text = guide('docs/troubleshooting.md');
    const snippet = blockAfter(text, 'error TS1241', 'ts');
    const quoted = blockAfter(text, 'gets, at the decorator', 'text')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && line !== '…');

    const dir = mkdtempSync(join(root, 'test/docs/.mistyped-'));
    try {
      const file = join(dir, 'mistyped.service.ts');
      writeFileSync(file, snippet);
      const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
      const program = ts.createProgram([file], { ...config!.options, noEmit: true, skipLibCheck: true });
      const errors = ts
        .getPreEmitDiagnostics(program)
        .filter((diagnostic) => diagnostic.file?.fileName === file)
        .map((diagnostic) => `error TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);

      expect(errors).toHaveLength(1);
      const said = errors[0].split('\n').map((line) => line.trim());
      for (const line of quoted) expect(said).toContain(line);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/check-docs.mjs', () => {
  it('finds every link of the README and the guides resolved, and none sending a package user into apps/ or test/', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'scripts/check-docs.mjs')]);
    expect(stdout).toMatch(/^check-docs: \d+ files, every link resolves/);
  });
});
