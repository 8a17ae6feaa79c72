// The "Done when" of issue 22: today's real `nest new` starters, with the packed package added the way
// docs/new-nest-app.md says (the Quick start), must build, pass their own e2e test and handle a signed event.
//
// For each starter: generate it with the real CLI (`npx -y @nestjs/cli@11 new app`, and `@latest`, which
// wires @nestjs/observe into the app), exactly as generated; `npm install` the tarball; make the guide's
// edits to src/main.ts (rawBody) and src/app.module.ts (the module, the handler's service), and write the
// guide's src/email-activity.service.ts; run the starter's own e2e test, which must fail as the guide says
// ("no secret was given"); make the guide's two-line change to it (Jest on CLI 11, Vitest on CLI 12);
// build with the starter's own `nest build`; run its own `npm run test:e2e`, green; start `node dist/main`
// (no @opentelemetry/api installed) and post a signed `email.opened` twice with the package's CLI: the
// first handled by one handler, the second a duplicate, and the handler's log line printed once.
//
// Every edit is a small text edit of the generated file that must find exactly what the guide shows. When
// a new starter changes that shape, the step fails and says which file and what it expected: update the
// guide and EDITS below together. The guide must contain each added line verbatim (as a `+` line of its
// diffs, or in its email-activity.service.ts snippet), so the two cannot drift apart.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseSnippets } from './readme-snippets.mjs';

export const GUIDE = 'docs/new-nest-app.md';
const SERVICE_FILE = 'src/email-activity.service.ts';
const SECRET_LINE = "process.env.KEPLARS_WEBHOOK_SECRET ??= 'whsec_e2e_test';";
const RAW_BODY_APP = '    app = moduleFixture.createNestApplication({ rawBody: true });';
/** The files of the starter's e2e test, changed after the Quick start. */
const E2E_TEST_FILES = ['test/app.e2e-spec.ts', 'vitest.config.e2e.ts'];
/** How the starter's e2e test fails after the Quick start alone (the module's startup error). */
const NO_SECRET = 'no secret was given';

/** The starters, and the shape of what each must generate (the guide describes these two shapes). */
export const STARTERS = [
  { name: 'nest-new-cli11', cli: '@nestjs/cli@11', shape: 'commonjs-jest' },
  { name: 'nest-new-cli-latest', cli: '@nestjs/cli@latest', shape: 'esm-vitest-observe' },
];

/**
 * The guide's edits for each shape: in each file, what must be found exactly once, and what replaces it.
 * `added` are the lines the guide must show as added.
 */
const EDITS = {
  'commonjs-jest': {
    'src/main.ts': [
      { expected: 'NestFactory.create(AppModule) call', find: '  const app = await NestFactory.create(AppModule);\n', replace: '  const app = await NestFactory.create(AppModule, { rawBody: true });\n' },
    ],
    'src/app.module.ts': [
      {
        expected: "import of './app.service'",
        find: "import { AppService } from './app.service';\n",
        replace: "import { AppService } from './app.service';\nimport { KeplarsWebhookModule } from 'nestjs-keplars-webhook';\nimport { EmailActivityService } from './email-activity.service';\n",
      },
      { expected: 'empty imports list', find: '  imports: [],\n', replace: '  imports: [KeplarsWebhookModule.forRoot(process.env.KEPLARS_WEBHOOK_SECRET)],\n' },
      { expected: 'providers: [AppService]', find: '  providers: [AppService],\n', replace: '  providers: [AppService, EmailActivityService],\n' },
    ],
    'test/app.e2e-spec.ts': [
      { expected: 'import of @nestjs/testing', find: "import { Test, TestingModule } from '@nestjs/testing';\n", replace: `${SECRET_LINE}\nimport { Test, TestingModule } from '@nestjs/testing';\n` },
      { expected: 'createNestApplication() call', find: '    app = moduleFixture.createNestApplication();\n', replace: `${RAW_BODY_APP}\n` },
    ],
  },
  'esm-vitest-observe': {
    'src/main.ts': [
      {
        expected: 'NestFactory.create(AppModule, { instrument: ObserveInstrument }) call',
        find: '  const app = await NestFactory.create(AppModule, {\n    instrument: ObserveInstrument,\n',
        replace: '  const app = await NestFactory.create(AppModule, {\n    instrument: ObserveInstrument,\n    rawBody: true,\n',
      },
    ],
    'src/app.module.ts': [
      {
        expected: "import of './app.service.js'",
        find: "import { AppService } from './app.service.js';\n",
        replace: "import { AppService } from './app.service.js';\nimport { KeplarsWebhookModule } from 'nestjs-keplars-webhook';\nimport { EmailActivityService } from './email-activity.service.js';\n",
      },
      {
        expected: 'ObserveModule.forRoot({ … }) as the last of the imports',
        find: /(\n {4}ObserveModule\.forRoot\(\{\n(?: {6}.*\n)+ {4}\}\),\n)( {2}\],\n)/,
        replace: '$1    KeplarsWebhookModule.forRoot(process.env.KEPLARS_WEBHOOK_SECRET),\n$2',
      },
      { expected: 'providers: [AppService]', find: '  providers: [AppService],\n', replace: '  providers: [AppService, EmailActivityService],\n' },
    ],
    'vitest.config.e2e.ts': [
      { expected: 'test: { … } block', find: '  test: {\n', replace: "  test: {\n    env: { KEPLARS_WEBHOOK_SECRET: 'whsec_e2e_test' },\n" },
    ],
    'test/app.e2e-spec.ts': [{ expected: 'createNestApplication() call', find: '    app = moduleFixture.createNestApplication();\n', replace: `${RAW_BODY_APP}\n` }],
  },
};

/** What identifies each shape in the generated app, checked before any edit. */
const SHAPES = {
  'commonjs-jest': { type: undefined, files: ['test/jest-e2e.json'], runner: 'Jest' },
  'esm-vitest-observe': { type: 'module', files: ['vitest.config.e2e.ts'], dependency: '@nestjs/observe', runner: 'Vitest' },
};

const MINUTE = 60_000;
const TIMEOUTS = { generate: 4 * MINUTE, install: 3 * MINUTE, build: 2 * MINUTE, e2e: 2 * MINUTE, boot: 30_000, send: 30_000 };

/** Lines added by one edit: those of `replace` (less `$n` references) that `find` does not have. */
function addedLines(edit) {
  const before = typeof edit.find === 'string' ? edit.find.split('\n') : [];
  return edit.replace
    .replace(/\$\d/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !before.includes(line));
}

/**
 * Checks that the guide shows every edit, and returns its email-activity.service.ts snippet. Throws a
 * StepFailure naming what is missing.
 */
export function readGuide(root, StepFailure) {
  const text = readFileSync(join(root, GUIDE), 'utf8');
  const lines = new Set(text.split('\n'));
  const missing = [];
  for (const edits of Object.values(EDITS)) {
    for (const editsOfFile of Object.values(edits)) {
      for (const edit of editsOfFile) for (const line of addedLines(edit)) if (!lines.has(`+${line}`)) missing.push(line);
    }
  }
  if (missing.length > 0) {
    throw new StepFailure(`read ${GUIDE}`, `the guide does not show, as added lines (+) of its diffs, these lines the starter test adds: ${missing.map((line) => JSON.stringify(line)).join(', ')}`);
  }
  const service = parseSnippets(GUIDE, text).find((snippet) => snippet.path === SERVICE_FILE);
  if (!service) throw new StepFailure(`read ${GUIDE}`, `the guide has no snippet starting with "// ${SERVICE_FILE}"`);
  return service.code;
}

/** Runs one starter through every step; never throws, returns what happened (as the consumer apps do). */
export async function testStarter(starter, tarball, context) {
  const { root, workDir, run, startProcess, StepFailure, baseEnv } = context;
  const appStarted = Date.now();
  const log = (message) => console.log(`[${starter.name}] ${message}`);
  const result = { consumer: starter, ok: false, description: `\`nest new\` with ${starter.cli}`, seconds: '' };
  const dir = join(workDir, starter.name);
  const appDir = join(dir, 'app');
  let app;
  try {
    const service = readGuide(root, StepFailure);
    mkdirSync(dir, { recursive: true });
    // npm's cache is shared with the other apps; the starter's own `npm install` is left as the CLI runs it.
    const npmEnv = { ...baseEnv, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_prefer_offline: 'true' };

    // 1. The starter, exactly as generated.
    const generate = await run('npx', ['-y', starter.cli, 'new', 'app', '--package-manager', 'npm', '--skip-git'], { cwd: dir, env: npmEnv, timeoutMs: TIMEOUTS.generate });
    if (generate.code !== 0 || !existsSync(join(appDir, 'node_modules/@nestjs/core'))) {
      throw new StepFailure(`npx -y ${starter.cli} new app`, `the CLI exited with code ${generate.code}${generate.code === 0 ? ' but installed no @nestjs/core' : ''}`, generate.output);
    }
    const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));
    const version = (name) => JSON.parse(readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8')).version;
    const shape = SHAPES[starter.shape];
    const unexpected = [
      manifest.type !== shape.type && `package.json "type" is ${JSON.stringify(manifest.type)}, not ${JSON.stringify(shape.type)}`,
      ...shape.files.filter((file) => !existsSync(join(appDir, file))).map((file) => `${file} is missing`),
      shape.dependency && !manifest.dependencies?.[shape.dependency] && `${shape.dependency} is not among its dependencies`,
    ].filter(Boolean);
    if (unexpected.length > 0) {
      throw new StepFailure(`npx -y ${starter.cli} new app`, `the starter is no longer the one ${GUIDE} describes (${starter.shape}): ${unexpected.join('; ')}. Update the guide and test/consumers/nest-new-starters.mjs.`);
    }
    result.description = `nest new (${starter.cli}): NestJS ${version('@nestjs/core')}, ${manifest.type === 'module' ? 'ESM' : 'CommonJS'}, ${shape.runner}${shape.dependency ? `, ${shape.dependency} ${version(shape.dependency)}` : ''}`;
    log(`generated (${generate.seconds} s): ${result.description}`);

    // 2. The package, as a user adds it.
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: appDir, env: npmEnv, timeoutMs: TIMEOUTS.install });
    if (install.code !== 0) throw new StepFailure('npm install the package', `npm install exited with code ${install.code}`, install.output);
    if (existsSync(join(appDir, 'node_modules/@opentelemetry/api'))) {
      throw new StepFailure('npm install the package', 'the app now has @opentelemetry/api installed: this test no longer checks the module without it (hide it, or change the test)');
    }
    log(`npm install the package (${install.seconds} s): no @opentelemetry/api installed`);

    // 3. The guide's Quick start. The starter's own e2e test then fails as the guide says it does.
    const files = Object.entries(EDITS[starter.shape]);
    const ofTests = ([file]) => E2E_TEST_FILES.includes(file);
    for (const [file, edits] of files.filter((entry) => !ofTests(entry))) applyEdits(appDir, file, edits, starter, StepFailure);
    writeFileSync(join(appDir, SERVICE_FILE), manifest.type === 'module' ? service.replace(/(from '\.{1,2}\/[^']+?)(?<!\.js)'/g, "$1.js'") : service);
    const e2eEnv = { ...npmEnv, CI: '1', NO_COLOR: '1', OBSERVE_ENDPOINT: 'http://127.0.0.1:9' };
    const red = await run('npm', ['run', 'test:e2e'], { cwd: appDir, env: e2eEnv, timeoutMs: TIMEOUTS.e2e });
    if (red.code === 0 || !red.output.includes(NO_SECRET)) {
      throw new StepFailure(
        'npm run test:e2e, before the change to it',
        `the starter's e2e test ${red.code === 0 ? 'passed' : 'failed, but not'} with "${NO_SECRET}", as ${GUIDE} says it does after the Quick start: update the guide`,
        red.output,
      );
    }
    log(`Quick start done (${files.filter((entry) => !ofTests(entry)).map(([file]) => file).join(', ')}, ${SERVICE_FILE}); the starter's e2e test fails as ${GUIDE} says ("${NO_SECRET}") (${red.seconds} s)`);
    for (const [file, edits] of files.filter(ofTests)) applyEdits(appDir, file, edits, starter, StepFailure);
    log(`changed the e2e test as ${GUIDE} says: ${files.filter(ofTests).map(([file]) => file).join(', ')}`);

    // 4. Built with the starter's own `nest build`.
    const build = await run('npm', ['run', 'build'], { cwd: appDir, env: npmEnv, timeoutMs: TIMEOUTS.build });
    if (build.code !== 0) throw new StepFailure('npm run build (nest build)', `the starter's build failed (exit code ${build.code})`, build.output);
    log(`npm run build (nest build) (${build.seconds} s)`);

    // 5. The starter's own e2e test, with the guide's change, green.
    const e2e = await run('npm', ['run', 'test:e2e'], { cwd: appDir, env: e2eEnv, timeoutMs: TIMEOUTS.e2e });
    if (e2e.code !== 0) {
      throw new StepFailure('npm run test:e2e', `the starter's own e2e test failed (exit code ${e2e.code}) with the change ${GUIDE} shows for ${shape.runner}`, e2e.output);
    }
    const summary = /^\s*Tests:?\s.*$/m.exec(e2e.output)?.[0]?.trim().replace(/\s+/g, ' ') ?? 'passed';
    log(`npm run test:e2e (${shape.runner}): ${summary} (${e2e.seconds} s)`);

    // 6. Started as in production, `node dist/main`. Observe's agent (CLI 12) posts to its collector with
    // the placeholder keys: kept on loopback, at a closed port.
    const secret = `whsec_${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
    const port = await freePort();
    const env = { ...baseEnv, KEPLARS_WEBHOOK_SECRET: secret, PORT: String(port), NO_COLOR: '1', OBSERVE_ENDPOINT: 'http://127.0.0.1:9' };
    app = startProcess(process.execPath, ['dist/main'], { cwd: appDir, env });
    const url = `http://127.0.0.1:${port}`;
    await waitUntilServing(url, app, StepFailure);
    log(`node dist/main serves ${url}`);

    // 7. A signed email.opened, then the same delivery again (Keplars' retry), with the package's CLI.
    const eventId = `evt_starter_${Date.now().toString(36)}`;
    const bin = join(appDir, 'node_modules/.bin/keplars-webhook-send');
    const send = await run(bin, ['--url', `${url}/webhooks/keplars`, '--type', 'email.opened', '--id', eventId, '--repeat', '2'], { cwd: appDir, env, timeoutMs: TIMEOUTS.send });
    const step = 'keplars-webhook-send --type email.opened --repeat 2';
    if (send.code !== 0) throw new StepFailure(step, `keplars-webhook-send exited with code ${send.code}`, send.output);
    for (const answer of ['accepted: 1 handler ran', 'already handled: no handler ran again (deduplication)']) {
      if (!send.output.includes(answer)) throw new StepFailure(step, `keplars-webhook-send did not print "${answer}"`, send.output);
    }
    const handled = `(event ${eventId})`;
    const seen = app.output().split('\n').filter((line) => line.includes(handled)).length;
    if (seen !== 1) throw new StepFailure('check the handler', `EmailActivityService logged "${handled}" ${seen} times, not once (its output is below)`);
    log(`keplars-webhook-send: accepted, 1 handler ran; the retry a duplicate; the handler logged the event once`);
    result.ok = true;
  } catch (error) {
    result.failure = error instanceof StepFailure ? error : new StepFailure('the test itself', error?.stack ?? String(error));
    if (app) result.failure.appOutput = app.output();
    log(`FAIL at "${result.failure.step}" (details at the end)`);
  } finally {
    await app?.stop();
    result.seconds = ((Date.now() - appStarted) / 1000).toFixed(1);
  }
  return result;
}

function applyEdits(appDir, file, edits, starter, StepFailure) {
  const path = join(appDir, file);
  if (!existsSync(path)) throw new StepFailure(`edit ${file}`, `the starter of ${starter.cli} has no ${file}: update ${GUIDE} and test/consumers/nest-new-starters.mjs`);
  let text = readFileSync(path, 'utf8');
  for (const edit of edits) {
    const count = typeof edit.find === 'string' ? text.split(edit.find).length - 1 : (text.match(new RegExp(edit.find.source, `${edit.find.flags.replace('g', '')}g`)) ?? []).length;
    if (count !== 1) {
      throw new StepFailure(
        `edit ${file}`,
        `${file} of the ${starter.cli} starter no longer has the ${edit.expected} that ${GUIDE} edits (found ${count} times, not once): ` +
          `the starter changed. Look at it (KEEP_CONSUMER_APPS=1) and update the guide and test/consumers/nest-new-starters.mjs together.`,
        text,
      );
    }
    text = typeof edit.find === 'string' ? text.replace(edit.find, () => edit.replace) : text.replace(edit.find, edit.replace);
  }
  writeFileSync(path, text);
}

/** Waits until the app answers its starter route (GET / → 200), or fails naming why. */
async function waitUntilServing(url, app, StepFailure) {
  const deadline = Date.now() + TIMEOUTS.boot;
  while (Date.now() < deadline) {
    if (app.exited()) throw new StepFailure('node dist/main', 'the app exited before it served a request (its output is below)');
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new StepFailure('node dist/main', `GET ${url}/ did not answer 200 within ${TIMEOUTS.boot / 1000} s (its output is below)`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
