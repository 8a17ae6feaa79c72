// The library's layers, checked by `npm run check:layers` (part of `npm test`). docs/how-it-is-built.md
// draws the same map. Each rule's comment is what a developer reads when the check fails: which rule,
// why it exists, and where the import belongs instead.
const SRC = '^libs/keplars-webhook/src/';

/** Each adapter and the one driver (npm packages) it may import besides the core. */
const ADAPTER_DRIVERS = {
  'memory-store': [],
  'redis-store': ['ioredis'],
  // One SQL dialect, reached two ways: a Postgres server through pg, or Postgres in this process
  // through PGlite. (A TypeORM DataSource is taken as the app passes it, never imported.)
  'postgres-store': ['pg', '@electric-sql/pglite'],
  'bullmq-queue': ['bullmq', 'ioredis'],
  opentelemetry: ['@opentelemetry/api'],
};

/** The core's steps, in the order a request passes them; a step may import only steps before it. */
const STEPS = ['0-event', '1-verify', '2-read', '3-normalize', '4-deliver', '5-answer'];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-framework-free',
      severity: 'error',
      comment:
        'src/core is the pipeline without a framework or a driver: it may import the core itself, Node built-ins, ' +
        'and class-validator/class-transformer with reflect-metadata (the DTO is the contract). Nest belongs in src/nest, ioredis/bullmq/pg/' +
        '@opentelemetry in an adapter under src/adapters. If the core needs something from outside, give it a port ' +
        '(an interface in src/core/ports) and let src/nest pass the implementation in.',
      from: { path: `${SRC}core/` },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: [`${SRC}core/`, '^node_modules/(class-validator|class-transformer|reflect-metadata)/'],
      },
    },
    {
      name: 'adapter-imports-core-only',
      severity: 'error',
      comment:
        'An adapter (src/adapters/<name>) implements a port of the core with its own driver: it may import src/core and ' +
        'its own folder, not another adapter, not src/nest, cli or testing. Put what two adapters share in src/core, ' +
        'and the choice between adapters in src/nest (the shell wires them).',
      from: { path: `${SRC}adapters/([^/]+)/` },
      to: { path: SRC, pathNot: [`${SRC}core/`, `${SRC}adapters/$1/`] },
    },
    ...Object.entries(ADAPTER_DRIVERS).map(([adapter, drivers]) => ({
      name: `${adapter}-uses-its-own-driver`,
      severity: 'error',
      comment:
        `The ${adapter} adapter may import only ${drivers.length ? drivers.join(' and ') : 'no npm package'} ` +
        '(besides Node built-ins and the core). A new driver means a new adapter folder, with a rule of its own here.',
      from: { path: `${SRC}adapters/${escape(adapter)}/` },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: [SRC, ...drivers.map((driver) => `^node_modules/${escape(driver)}/`)],
      },
    })),
    {
      name: 'nest-is-the-outer-shell',
      severity: 'error',
      comment:
        'src/nest wires the adapters to the core for Nest; nothing inside the library depends on it but the entry ' +
        'points (index.ts), the test helpers (testing/) and the command line (cli/). Move what the importer needs ' +
        'into src/core (a port or a plain function) and import it from there.',
      from: { path: SRC, pathNot: [`${SRC}index\\.ts$`, `${SRC}testing/`, `${SRC}cli/`, `${SRC}nest/`] },
      to: { path: `${SRC}nest/` },
    },
    ...STEPS.map((step, index) => ({
      name: `core-steps-in-order-${step}`,
      severity: 'error',
      comment:
        `The core's numbered folders are the order a request passes them: ${STEPS.join(' → ')}. ${step} may import ` +
        'the steps before it, ports and support, never a later step. Move the shared piece to the earlier step (or to ' +
        'core/0-event, the vocabulary every step speaks).',
      from: { path: `${SRC}core/${escape(step)}/` },
      to: { path: STEPS.slice(index + 1).map((later) => `${SRC}core/${escape(later)}/`) },
    })).filter((rule) => rule.to.path.length > 0),
    {
      name: 'ports-name-no-step',
      severity: 'error',
      comment:
        'core/ports (the interfaces adapters implement) and core/support speak only the vocabulary of core/0-event; a ' +
        'step imports them, not the other way round. Move the type the port needs into core/0-event.',
      from: { path: `${SRC}core/(ports|support)/` },
      to: { path: `${SRC}core/[1-9]` },
    },
    {
      name: 'no-circular-files',
      severity: 'error',
      comment: 'This import closes a circle between files: one of them cannot be read, tested or loaded without the other. Cut the circle by moving the shared part into a file both import.',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment:
        'This import closes a circle between folders: from one folder an import path leads to the other and back, so ' +
        'neither can be read or changed on its own. Move the piece both need to the folder below them both (a port or ' +
        'type in src/core, an option type in the adapter that owns it).',
      scope: 'folder',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'An import the checker cannot resolve: a typo, or a path it cannot see, and then the other rules cannot check it either.',
      from: { path: SRC },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Paths stay as written (node_modules/…) even where node_modules is a link, as in the rules' own test.
    preserveSymlinks: true,
    // Specs may reach across layers to test them; the rules are about what ships.
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true, // type-only imports count: they tie the layers as much as values do
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
