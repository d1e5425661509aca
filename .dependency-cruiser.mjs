// The import boundaries of the layout (docs/development.md ("Lint and boundaries")), checked by `npm run lint`.
// The production folders depend in one order, each only on those before it:
//
//   config → dis → poll → metrics → http → web
//
// The top level (the command line, the composition root, the clock, the logger, the build info, the V8 heap
// tuning) may import every folder; the folders import only clock.ts from it. simulator/ (the fake DIS of the tests,
// the demo and the benchmark) may import production code; production code never imports it. test/ and bench/ may
// import anything. A rule's comment is what a break prints: it says what the rule holds and where the import goes
// instead.

/** A production folder, as a path pattern. */
const folder = (...names) => `^src/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'config-comes-first',
      severity: 'error',
      comment:
        'config/ reads and checks the settings and comes first in config → dis → poll → metrics → http → web: it ' +
        'imports none of the later folders. Move what both need into config/, or let the caller pass it in.',
      from: { path: folder('config') },
      to: { path: folder('dis', 'poll', 'metrics', 'http', 'web') },
    },
    {
      name: 'dis-knows-only-config',
      severity: 'error',
      comment:
        'The DIS client (dis/) knows nothing of polling, metrics, HTTP serving or the web config: it imports only ' +
        "config/ and clock.ts. Pass what it needs in through createDisClient's options or a callback.",
      from: { path: folder('dis') },
      to: { path: folder('poll', 'metrics', 'http', 'web') },
    },
    {
      name: 'poll-before-metrics',
      severity: 'error',
      comment:
        'poll/ builds the snapshot that metrics/ and http/ read: it imports none of metrics/, http/, web/. A rule ' +
        'both the poller and the renderer use belongs in poll/ (like poll/lag-and-staleness.ts).',
      from: { path: folder('poll') },
      to: { path: folder('metrics', 'http', 'web') },
    },
    {
      name: 'metrics-uses-dis-types-only',
      severity: 'error',
      comment:
        'metrics/ renders the snapshot and never runs DIS client code, so a scrape cannot reach DIS: it imports ' +
        'dis/ only with `import type`. A value both need (a constant, a rule) belongs in metrics/ or poll/.',
      from: { path: folder('metrics') },
      to: { path: folder('dis'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'metrics-before-http',
      severity: 'error',
      comment:
        'metrics/ writes the exposition that http/ serves: it imports neither http/ nor web/. Let http/ call it.',
      from: { path: folder('metrics') },
      to: { path: folder('http', 'web') },
    },
    {
      name: 'http-before-web',
      severity: 'error',
      comment:
        'web/ (TLS, basic auth, rate limit) wraps the server of http/ and comes after it: http/ does not import ' +
        'web/. The composition root (app.ts) joins them.',
      from: { path: folder('http') },
      to: { path: folder('web') },
    },
    {
      name: 'production-never-imports-simulator',
      severity: 'error',
      comment:
        'simulator/ is the fake DIS of the tests, the demo and the benchmark; production code (src/ outside ' +
        'simulator/) never imports it. Move what both need into the production folder it belongs to.',
      from: { path: '^src/', pathNot: '^src/simulator/' },
      to: { path: '^src/simulator/' },
    },
    {
      name: 'folders-import-only-clock-from-top-level',
      severity: 'error',
      comment:
        'The top level (cli.ts, app.ts, logger.ts, version.ts, heap-growth.ts, main.ts) wires the folders ' +
        'together; a folder imports only clock.ts from it. Pass the rest in from the composition root (app.ts). ' +
        'simulator/ is exempt: its demo runs the real command line.',
      from: { path: folder('config', 'dis', 'poll', 'metrics', 'http', 'web') },
      to: { path: '^src/[^/]+$', pathNot: '^src/clock\\.ts$' },
    },
    {
      name: 'production-never-imports-tests',
      severity: 'error',
      comment: 'src/ is what ships; it never imports test/, bench/ or scripts/.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'production-never-imports-dev-dependencies',
      severity: 'error',
      comment:
        'The image drops the devDependencies (npm prune --omit=dev): src/ imports at run time only packages of ' +
        "package.json's dependencies (a type-only import of a devDependency is fine).",
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment:
        'Files import each other in one direction, counting `import type`: a cycle hides which one is the ' +
        'lower layer. Move what both need into a third file that both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'This import names a file or package that does not exist.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'declared-packages-only',
      severity: 'error',
      comment:
        "This package is not in package.json's dependencies or devDependencies; it works only while another " +
        'package happens to install it. Add it to package.json.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    // Type-only imports count: they are edges of the layout too (and of cycles); rules that allow them say so.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve packages as Node.js does for ES modules: through their "exports" (got has no "main").
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage)/' },
  },
};
