#!/usr/bin/env node
// The consumer test: does the package, exactly as npm would publish it, work in real apps?
//
//   npm run test:consumers                        all consumers
//   npm run test:consumers -- cjs-nest11-express  only the ones named
//   KEEP_CONSUMER_APPS=1 npm run test:consumers   keep the temporary apps to look into them
//
// It builds dist/package (scripts/build-package.mjs), packs it with `npm pack`, and copies each app of
// test/consumers/apps into a temporary folder outside the repository, where nothing of the monorepo
// (its node_modules, its tsconfig paths) can help. In each app, side by side:
//   1. `npm install` the tarball and the app's own dependencies from the registry (one shared npm cache);
//   2. type-check and compile with the app's own TypeScript, skipLibCheck off, so the published .d.ts
//      are checked too; each app has a handler typed for the wrong event under `@ts-expect-error`, so
//      the check fails if the decorator stops narrowing;
//   2b. compile every TypeScript snippet of both READMEs (test/consumers/readme-snippets.mjs says
//      how, and how to mark a snippet that is not meant to compile): in the strict CommonJS app on
//      NestJS 11 and in the ES module app on NestJS 12; then run the READMEs' own test examples there:
//      with the NestJS 11 starter's unchanged Jest config (which loads the package's CommonJS build),
//      and with Vitest in the NestJS 12 app; and, in the CommonJS app, load both builds of the package
//      at once (dual-package-check.mjs) and make the newcomer's mistakes (misconfiguration-check.cjs):
//      each must be refused or warned of with the message the READMEs quote;
//   3. start the app (`node dist/main.js`, created with `rawBody: true`), post a signed `email.opened`
//      with the package's test kit (200), again as Keplars' retry (200, duplicate), a signed but invalid
//      payload (400), and one more event with the package's CLI, run from node_modules/.bin;
//   4. ask the app which events its handlers saw: each valid one exactly once, by each listener.
// Prints PASS or FAIL per app, and for a failure the step, the reason and the output that explains it.
// Exits 1 if any app fails.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { READMES, snippetsFor, withEsmExtensions, withRelativeImports, writeSnippets } from './readme-snippets.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const appsDir = join(root, 'test/consumers/apps');
const packageDir = join(root, 'dist/package');

/** The apps, each in test/consumers/apps/<name>. */
const CONSUMERS = [
  {
    name: 'esm-nest12-express',
    kind: 'ESM app',
    features: 'forRoot, @nestjs/event-emitter',
    listeners: ['OnKeplarsEvent', 'OnEvent'],
    typeChecks: [{ tsconfig: 'tsconfig.json', settings: 'module nodenext, skipLibCheck off' }],
    // The READMEs' snippets, and their Vitest example run as the NestJS 12 starter runs its e2e tests.
    readme: { kind: 'esm', tsconfig: 'tsconfig.readme.json', runner: 'Vitest', run: ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.config.e2e.ts'] },
  },
  {
    name: 'cjs-nest12-fastify',
    kind: 'CommonJS app',
    features: 'forRootAsync + @nestjs/config',
    listeners: ['OnKeplarsEvent'],
    typeChecks: [
      { tsconfig: 'tsconfig.json', settings: 'module nodenext, skipLibCheck off' },
      { tsconfig: 'tsconfig.commonjs.json', settings: 'module commonjs, moduleResolution bundler, no emit' },
    ],
  },
  {
    name: 'cjs-nest11-express',
    kind: 'CommonJS app',
    features: 'forRootAsync + @nestjs/config, @nestjs/event-emitter',
    listeners: ['OnKeplarsEvent', 'OnEvent'],
    typeChecks: [
      { tsconfig: 'tsconfig.json', settings: 'module commonjs (node10 resolution), skipLibCheck off' },
      { tsconfig: 'tsconfig.nodenext.json', settings: 'module nodenext, no emit' },
    ],
    // The READMEs' snippets, then its own end-to-end test and the READMEs' Jest example, with the
    // NestJS 11 starter's test/jest-e2e.json as generated: Jest in CommonJS, ts-jest.
    readme: { kind: 'commonjs', tsconfig: 'tsconfig.readme.json', runner: 'Jest (CommonJS, ts-jest)', run: ['node_modules/jest/bin/jest.js', '--config', 'test/jest-e2e.json', '--ci'] },
    dualPackageCheck: 'dual-package-check.mjs',
    // The newcomer's mistakes of issue 11, each refused or warned of with the message the READMEs quote.
    misconfigurationCheck: 'misconfiguration-check.cjs',
  },
];

/**
 * The two READMEs, without the guides of docs/: a guide covers one subject (operations, queue mode…),
 * so it is not asked to quote every startup message; the READMEs (or the guide that takes them over) are.
 */
const TWO_READMES = READMES.filter((readme) => !readme.startsWith('docs/'));

/** What misconfiguration-check.cjs must see for each mistake, and which READMEs quote the message. */
const DOCUMENTED_MISTAKES = [
  {
    mistake: 'a misspelled nested option',
    outcome: 'refused',
    message: 'unknown option "deduplication.windowSecond" (did you mean "deduplication.windowSeconds"?). The options of deduplication are: windowSeconds, derivedIdWindowSeconds, lockSeconds, store, maxEvents.',
    readmes: ['README.md'],
  },
  {
    mistake: 'forRootAsync without imports: [ConfigModule]',
    outcome: 'refused',
    // NestJS 12 ends the sentence with "context.", NestJS 11 with "module.".
    message: "Nest can't resolve dependencies of the KEPLARS_WEBHOOK_MODULE_OPTIONS (?). Please make sure that the argument ConfigService at index [0] is available in the KeplarsWebhookModule",
    readmes: TWO_READMES,
  },
  { mistake: 'no handler (the service left out of providers)', outcome: 'warned', message: 'No @OnKeplarsEvent() handler was found', readmes: TWO_READMES },
];

const MINUTE = 60_000;
const TIMEOUTS = { build: 3 * MINUTE, install: 5 * MINUTE, tsc: 3 * MINUTE, boot: 30_000, send: 30_000, stop: 5_000 };
const OUTPUT_LINES_SHOWN = 60;

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const children = new Set();
let workDir;

class StepFailure extends Error {
  constructor(step, reason, output = '') {
    super(reason);
    this.step = step;
    this.output = output;
  }
}

// npm puts its own settings in the environment of `npm run`; some (npm_config_local_prefix) would make
// the `npm install` of an app install into this repository instead. Keep only where packages come from.
const KEEP_NPM_SETTING = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|ca|proxy|https?_proxy|noproxy|strict_ssl|@.*:registry|\/\/.*)$/i;
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => key !== 'INIT_CWD' && (!/^npm_/i.test(key) || KEEP_NPM_SETTING.test(key))),
);

process.on('SIGINT', () => abort('interrupted'));
process.on('SIGTERM', () => abort('terminated'));

await main();

async function main() {
  const selected = process.argv.slice(2);
  const unknown = selected.filter((name) => !CONSUMERS.some((consumer) => consumer.name === name));
  if (unknown.length > 0) {
    console.error(`consumer test: no app named ${unknown.join(', ')}. The apps are: ${CONSUMERS.map((consumer) => consumer.name).join(', ')}.`);
    process.exit(2);
  }
  const consumers = selected.length > 0 ? CONSUMERS.filter((consumer) => selected.includes(consumer.name)) : CONSUMERS;

  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`consumer test: FAIL: Node ${process.versions.node} is too old. The package needs Node 20.19+ (CommonJS apps load it through require(esm)).`);
    process.exit(1);
  }

  console.log(`consumer test: the packed nestjs-keplars-webhook in ${consumers.length} app(s), Node ${process.versions.node}`);
  workDir = mkdtempSync(join(tmpdir(), 'keplars-consumers-'));
  let results;
  try {
    const tarball = await buildAndPack();
    results = await Promise.all(consumers.map((consumer) => testConsumer(consumer, tarball)));
  } catch (error) {
    if (!(error instanceof StepFailure)) {
      cleanUp();
      throw error;
    }
    report(`consumer test: FAIL at "${error.step}": ${error.message}`, error.output);
    cleanUp();
    process.exit(1);
  }
  cleanUp();

  console.log('\nconsumer test results:');
  for (const result of results) {
    console.log(`  ${result.ok ? 'PASS' : 'FAIL'}  ${result.consumer.name.padEnd(20)} ${result.description}  (${result.seconds} s)`);
  }
  for (const result of results.filter((result) => !result.ok)) {
    const { step, message, output, appOutput } = result.failure;
    report(`\n[${result.consumer.name}] FAIL at "${step}": ${message}`, output);
    if (appOutput) report(`[${result.consumer.name}] the app's own output:`, appOutput);
    console.log(`[${result.consumer.name}] to run only this app: npm run test:consumers -- ${result.consumer.name}; to keep its folder, add KEEP_CONSUMER_APPS=1`);
  }
  const passed = results.filter((result) => result.ok).length;
  console.log(`\nconsumer test: ${passed === results.length ? 'PASS' : 'FAIL'}: ${passed} of ${results.length} app(s) passed, in ${seconds(started)} s`);
  process.exit(passed === results.length ? 0 : 1);
}

/** Builds dist/package and packs it into the work folder; returns the tarball's path. */
async function buildAndPack() {
  const build = await run(process.execPath, [join(root, 'scripts/build-package.mjs')], { cwd: root, timeoutMs: TIMEOUTS.build });
  if (build.code !== 0) throw new StepFailure('build the package', 'scripts/build-package.mjs failed', build.output);
  console.log(`  built dist/package (${build.seconds} s)`);

  const pack = await run('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: packageDir, timeoutMs: TIMEOUTS.build });
  if (pack.code !== 0) throw new StepFailure('npm pack', `npm pack exited with code ${pack.code}`, pack.output);
  let packed;
  try {
    packed = JSON.parse(pack.stdout)[0];
  } catch {
    throw new StepFailure('npm pack', 'could not read the JSON npm pack prints', pack.output);
  }
  console.log(`  packed ${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(1)} kB (${pack.seconds} s)`);
  console.log(`  apps in ${workDir} (removed at the end${process.env.KEEP_CONSUMER_APPS ? ', unless KEEP_CONSUMER_APPS is set: it is' : ''})`);
  return join(workDir, packed.filename);
}

/** Runs one app through every step; never throws, returns what happened. */
async function testConsumer(consumer, tarball) {
  const appStarted = Date.now();
  const dir = join(workDir, consumer.name);
  const log = (message) => console.log(`[${consumer.name}] ${message}`);
  const result = { consumer, ok: false, description: consumer.kind, seconds: '' };
  let app;
  try {
    cpSync(join(appsDir, consumer.name), dir, { recursive: true, filter: (source) => !/[/\\](node_modules|dist)$/.test(source) });

    // 1. Install as a user would: the tarball, plus the app's own dependencies from the registry.
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: dir, timeoutMs: TIMEOUTS.install });
    if (install.code !== 0) throw new StepFailure('npm install', `npm install exited with code ${install.code}`, install.output);
    const version = (name) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
    const adapter = existsSync(join(dir, 'node_modules/@nestjs/platform-fastify')) ? 'Fastify' : 'Express';
    result.description = `${consumer.kind}, NestJS ${version('@nestjs/core')}, ${adapter}, TypeScript ${version('typescript')}, ${consumer.features}`;
    log(`installed (${install.seconds} s): ${result.description}`);

    // 2. Type-check (the published .d.ts included) and compile with the app's own TypeScript.
    for (const { tsconfig, settings } of consumer.typeChecks) {
      const tsc = await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', tsconfig, '--pretty', 'false'], { cwd: dir, timeoutMs: TIMEOUTS.tsc });
      if (tsc.code !== 0) {
        const narrowing = /TS2578/.test(tsc.output) ? ' "Unused @ts-expect-error" means @OnKeplarsEvent no longer narrows the handler type.' : '';
        throw new StepFailure(`tsc -p ${tsconfig}`, `TypeScript rejected the app.${narrowing}`, tsc.output);
      }
      log(`tsc -p ${tsconfig} (${settings}): no errors, the @ts-expect-error mistake caught (${tsc.seconds} s)`);
    }

    if (consumer.readme) await checkReadme(consumer, dir, log);

    if (consumer.dualPackageCheck) {
      const dual = await run(process.execPath, [consumer.dualPackageCheck], { cwd: dir, timeoutMs: TIMEOUTS.send });
      const outcome = lastJsonLine(dual.stdout);
      if (dual.code !== 0 || !outcome?.ok) throw new StepFailure(`node ${consumer.dualPackageCheck}`, outcome?.problem ?? `exited with code ${dual.code}`, dual.output);
      log(`both builds in one app: ${outcome.checks.join('; ')} (${dual.seconds} s)`);
    }

    if (consumer.misconfigurationCheck) {
      const check = await run(process.execPath, [consumer.misconfigurationCheck], { cwd: dir, timeoutMs: TIMEOUTS.send });
      const results = lastJsonLine(check.stdout);
      if (!Array.isArray(results)) throw new StepFailure(`node ${consumer.misconfigurationCheck}`, `exited with code ${check.code} without printing its results`, check.output);
      // The READMEs wrap lines and put messages in backticks: compare words only.
      const words = (text) => text.replace(/[`*]/g, '').replace(/\s+/g, ' ');
      for (const expected of DOCUMENTED_MISTAKES) {
        const seen = results.find((result) => result.mistake === expected.mistake);
        if (seen?.outcome !== expected.outcome || !words(seen.message).includes(expected.message)) {
          throw new StepFailure(`node ${consumer.misconfigurationCheck}`, `${expected.mistake}: expected ${expected.outcome} with "${expected.message}", got ${JSON.stringify(seen)}`);
        }
        for (const readme of expected.readmes) {
          if (!words(readFileSync(join(root, readme), 'utf8')).includes(expected.message)) {
            throw new StepFailure(`node ${consumer.misconfigurationCheck}`, `${readme} does not quote the message for ${expected.mistake}: "${expected.message}"`);
          }
        }
      }
      log(`misconfigurations: ${DOCUMENTED_MISTAKES.map((expected) => `${expected.mistake} ${expected.outcome}`).join('; ')}, as the READMEs say (${check.seconds} s)`);
    }

    // 3. Start the app as its users would.
    const secret = `whsec_${randomBytes(12).toString('hex')}`;
    const env = { ...baseEnv, KEPLARS_WEBHOOK_SECRET: secret, PORT: '0', NO_COLOR: '1' };
    app = await startApp(dir, env);
    log(`started: node dist/main.js listens on ${app.url}`);

    // 4. A signed event with the package's test kit (nestjs-keplars-webhook/testing), then Keplars' retry.
    const kitEventId = `evt_kit_${randomBytes(6).toString('hex')}`;
    const send = await run(process.execPath, ['dist/send-test-event.js', app.url, kitEventId], { cwd: dir, env, timeoutMs: TIMEOUTS.send });
    const answers = send.code === 0 ? lastJsonLine(send.stdout) : undefined;
    if (!answers) throw new StepFailure('post with the test kit', `dist/send-test-event.js exited with code ${send.code} without printing the answers`, send.output);
    expectAnswer('post with the test kit', 'POST /webhooks/keplars', answers.first, { received: true });
    expectAnswer('post with the test kit', 'the same event again (Keplars retrying)', answers.retry, { received: true, duplicate: true });
    if (answers.refused?.status !== 400) {
      throw new StepFailure('post with the test kit', `a signed payload with a numeric email_id was answered ${answers.refused?.status} ${JSON.stringify(answers.refused?.body)}, not 400`);
    }
    log(
      `test kit: POST /webhooks/keplars answered ${answers.first.status} ${JSON.stringify(answers.first.body)}; ` +
        `the retry ${answers.retry.status} ${JSON.stringify(answers.retry.body)}; an invalid payload ${answers.refused.status}`,
    );

    // 5. Another through the package's CLI, run from node_modules/.bin like `npx keplars-webhook-send`.
    const cliEventId = `evt_cli_${randomBytes(6).toString('hex')}`;
    const bin = join(dir, 'node_modules/.bin/keplars-webhook-send');
    if (!existsSync(bin)) throw new StepFailure('run the CLI', 'npm did not link node_modules/.bin/keplars-webhook-send: check "bin" in the package.json');
    const cli = await run(bin, ['--url', `${app.url}/webhooks/keplars`, '--type', 'email.opened', '--id', cliEventId], { cwd: dir, env, timeoutMs: TIMEOUTS.send });
    if (cli.code !== 0) throw new StepFailure('run the CLI', `keplars-webhook-send exited with code ${cli.code}`, cli.output);
    log(`CLI: keplars-webhook-send --type email.opened exited 0`);

    // 6. Did the handlers see each event exactly once?
    const opens = await getJson(`${app.url}/engagement/opens`);
    for (const eventId of [kitEventId, cliEventId]) {
      for (const via of consumer.listeners) {
        const seen = opens.filter((open) => open.eventId === eventId && open.via === via).length;
        if (seen !== 1) {
          throw new StepFailure('check the handlers', `the ${via} handler saw ${eventId} ${seen} times, not once. GET /engagement/opens answered ${JSON.stringify(opens)}`);
        }
      }
    }
    if (opens.length !== 2 * consumer.listeners.length) {
      throw new StepFailure('check the handlers', `the handlers saw ${opens.length} events, not ${2 * consumer.listeners.length}. GET /engagement/opens answered ${JSON.stringify(opens)}`);
    }
    log(`handlers: ${consumer.listeners.map((via) => `@${via}`).join(' and ')} each saw both events once`);
    result.ok = true;
  } catch (error) {
    result.failure = error instanceof StepFailure ? error : new StepFailure('the test itself', error?.stack ?? String(error));
    if (app) result.failure.appOutput = app.output();
    log(`FAIL at "${result.failure.step}" (details at the end)`);
  } finally {
    await app?.stop();
    result.seconds = seconds(appStarted);
  }
  return result;
}

/**
 * Compiles the READMEs' snippets of the app's kind with its own TypeScript, then runs the READMEs' test
 * examples of that kind (declared as test/….e2e-spec.ts) in the app, with its test runner.
 */
async function checkReadme(consumer, dir, log) {
  const { kind, tsconfig, runner } = consumer.readme;
  const snippets = snippetsFor(root, kind);
  const snippetDir = join(dir, 'readme-snippets');
  writeSnippets(snippets, snippetDir, kind);
  const tsc = await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', tsconfig, '--pretty', 'false'], { cwd: dir, timeoutMs: TIMEOUTS.tsc });
  if (tsc.code !== 0) {
    throw new StepFailure(
      `compile the READMEs' snippets (tsc -p ${tsconfig})`,
      'a README snippet does not compile: each error names readme-snippets/<README>-L<line of the snippet>/…. ' +
        'Fix the snippet, or mark it "ts nocompile" if it is deliberately partial (see test/consumers/readme-snippets.mjs).',
      tsc.output,
    );
  }
  rmSync(snippetDir, { recursive: true, force: true }); // so the test runner does not pick up their tests
  log(`compiled ${snippets.length} README snippets (${kind}, strict) (${tsc.seconds} s)`);

  const examples = snippets.filter((snippet) => snippet.flags.includes(kind) && /^test\/.*\.e2e-spec\.ts$/.test(snippet.path ?? ''));
  if (examples.length === 0) throw new StepFailure('run the READMEs\' test examples', `no README has a "ts ${kind}" snippet starting with "// test/….e2e-spec.ts"`);
  for (const example of examples) {
    for (const [path, snippet] of withRelativeImports(snippets, example.readme, example.path)) {
      if (existsSync(join(dir, path))) throw new StepFailure('run the READMEs\' test examples', `${example.readme} declares ${path}, which the app already has: rename it in the README`);
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), kind === 'esm' ? withEsmExtensions(snippet.code) : snippet.code);
    }
  }
  const [script, ...args] = consumer.readme.run;
  const tests = await run(process.execPath, [join(dir, script), ...args], { cwd: dir, env: { ...baseEnv, CI: '1', NO_COLOR: '1' }, timeoutMs: TIMEOUTS.tsc });
  if (tests.code !== 0) throw new StepFailure(`${runner}: ${args.join(' ')}`, `the app's tests, with the READMEs' examples, failed (exit code ${tests.code})`, tests.output);
  const missing = examples.filter((example) => !tests.output.includes(example.path.split('/').pop()));
  if (missing.length > 0) throw new StepFailure(`${runner}: ${args.join(' ')}`, `${runner} did not run ${missing.map((example) => example.path).join(', ')}`, tests.output);
  const summary = /^\s*Tests:?\s.*$/m.exec(tests.output)?.[0]?.trim().replace(/\s+/g, ' ') ?? 'passed';
  log(`${runner} ran the app's tests and the READMEs' ${examples.map((example) => example.path).join(', ')}: ${summary} (${tests.seconds} s)`);
}

function expectAnswer(step, what, answer, body) {
  if (answer?.status !== 200 || !isDeepStrictEqual(answer.body, body)) {
    throw new StepFailure(step, `${what} was answered ${answer?.status} ${JSON.stringify(answer?.body)}, not 200 ${JSON.stringify(body)}`);
  }
}

/** Starts `node dist/main.js` and waits until it prints "Listening on <url>". */
function startApp(dir, env) {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  let exited = false;
  const exit = new Promise((resolveExit) => child.on('close', (code, signal) => {
    exited = true;
    children.delete(child);
    output += `\n[the app exited: ${signal ?? `code ${code}`}]`;
    resolveExit();
  }));
  const stop = async () => {
    if (exited) return;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), TIMEOUTS.stop);
    await exit;
    clearTimeout(timer);
  };
  return new Promise((resolveStart, rejectStart) => {
    let listening = false;
    const failed = async (reason) => {
      clearTimeout(timer);
      await stop();
      rejectStart(Object.assign(new StepFailure('start the app', reason), { appOutput: output }));
    };
    const timer = setTimeout(() => failed(`it did not print "Listening on …" within ${TIMEOUTS.boot / 1000} s`), TIMEOUTS.boot);
    const onData = (chunk) => {
      output += chunk;
      const url = !listening && /Listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        listening = true;
        clearTimeout(timer);
        resolveStart({ url, stop, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exit.then(() => listening || failed('it exited before listening'));
  });
}

/** Runs a command to its end; resolves with its exit code, its stdout, and its stdout and stderr interleaved. */
function run(command, args, { cwd, env = baseEnv, timeoutMs }) {
  return new Promise((resolveRun) => {
    const commandStarted = Date.now();
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[stopped: no end after ${timeoutMs / 1000} s]`;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    let settled = false;
    const settle = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code, output, stdout, seconds: seconds(commandStarted) });
    };
    child.on('error', (error) => {
      output += `\n[could not run ${command}: ${error.message}]`;
      settle(127);
    });
    child.on('close', (code, signal) => settle(code ?? (signal ? 128 : 1)));
  });
}

async function getJson(url) {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new StepFailure('check the handlers', `GET ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

function lastJsonLine(output) {
  const line = output.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Each child runs in a process group of its own (npm starts children of its own); stop it all. */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function report(title, output) {
  console.log(title);
  if (!output?.trim()) return;
  const lines = output.trim().split('\n');
  const shown = lines.slice(-OUTPUT_LINES_SHOWN);
  if (lines.length > shown.length) console.log(`    … (${lines.length - shown.length} earlier lines left out)`);
  for (const line of shown) console.log(`    ${line}`);
}

function cleanUp() {
  if (!workDir) return;
  if (process.env.KEEP_CONSUMER_APPS) console.log(`consumer test: the apps are kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

function abort(why) {
  console.log(`\nconsumer test: ${why}; stopping its processes and removing ${workDir ?? 'nothing'}`);
  for (const child of children) killGroup(child, 'SIGKILL');
  cleanUp();
  process.exit(130);
}
