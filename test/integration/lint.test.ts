// The lint catches what it is there to catch (docs/development.md ("Lint and boundaries")): each import boundary
// and each promise rule is broken on purpose in a small tree beside the real one, and `npm run lint:boundaries` and
// `npm run lint:eslint` run there, as `npm run lint` runs them, with the project's own package.json, tsconfig files,
// .dependency-cruiser.mjs and eslint.config.mjs copied unchanged. Each planted break must be reported by its rule,
// and nothing else: the tree also holds the imports and promises the rules allow. A rule that stops firing, or
// starts firing on allowed code, fails here rather than silently.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG_FILES = [
  'package.json',
  'tsconfig.json',
  'tsconfig.eslint.json',
  '.dependency-cruiser.mjs',
  'eslint.config.mjs',
];

/** The layout's stand-ins that the planted files import: each folder's module, exporting one thing. */
const LAYOUT: Record<string, string> = {
  'src/clock.ts': 'export const systemClock = { now: (): number => 0 };\n',
  'src/cli.ts': 'export function run(): number {\n  return 0;\n}\n',
  'src/logger.ts': 'export function createLogger(): undefined {\n  return undefined;\n}\n',
  'src/config/types.ts': 'export type Config = { interval: number };\n',
  'src/dis/errors.ts': 'export class DisError extends Error {}\n',
  'src/poll/store.ts': 'export type Snapshot = { atMs: number };\n',
  'src/metrics/names.ts': "export const FAMILIES = ['dis_dump_task_info'];\n",
  'src/http/server.ts': 'export type RunningServer = { port: number };\n',
  'src/web/web-config.ts': 'export type WebConfig = { tls: boolean };\n',
  'src/simulator/fake-dis.ts': 'export function startFakeDis(): undefined {\n  return undefined;\n}\n',
  'test/helpers/manual-clock.ts': 'export class ManualClock {}\n',
  'bench/run.ts': "export { createLogger } from '../src/logger.js';\n",
};

/** One file per boundary rule, each breaking that rule once, and the imports the rules allow beside them. */
const BOUNDARY_PLANTS: Record<string, string> = {
  'src/config/uses-poll.ts': "import type { Snapshot } from '../poll/store.js';\nexport type S = Snapshot;\n",
  'src/dis/uses-metrics.ts': "import { FAMILIES } from '../metrics/names.js';\nexport const f = FAMILIES;\n",
  'src/dis/uses-config.ts': "import type { Config } from '../config/types.js';\nexport type C = Config;\n",
  'src/poll/uses-http.ts': "import type { RunningServer } from '../http/server.js';\nexport type R = RunningServer;\n",
  'src/metrics/runs-dis.ts': "import { DisError } from '../dis/errors.js';\nexport const e = DisError;\n",
  'src/metrics/types-of-dis.ts': "import type { DisError } from '../dis/errors.js';\nexport type E = DisError;\n",
  'src/metrics/uses-web.ts': "import type { WebConfig } from '../web/web-config.js';\nexport type W = WebConfig;\n",
  'src/http/uses-web.ts': "import type { WebConfig } from '../web/web-config.js';\nexport type W = WebConfig;\n",
  'src/uses-simulator.ts': "import { startFakeDis } from './simulator/fake-dis.js';\nexport const s = startFakeDis;\n",
  'src/simulator/demo.ts': "import { run } from '../cli.js';\nexport const r = run;\n",
  'src/poll/uses-logger.ts': "import { createLogger } from '../logger.js';\nexport const l = createLogger;\n",
  'src/poll/uses-clock.ts': "import { systemClock } from '../clock.js';\nexport const c = systemClock;\n",
  'src/uses-tests.ts':
    "import { ManualClock } from '../test/helpers/manual-clock.js';\nexport const m = ManualClock;\n",
  'src/http/runs-dev-dependency.ts': "import { expect } from 'chai';\nexport const e = expect;\n",
  'src/http/types-of-dev-dependency.ts': "import type { Assertion } from 'chai';\nexport type A = Assertion;\n",
  'src/poll/cycle-a.ts': "import { b } from './cycle-b.js';\nexport const a = (): number => b + 1;\n",
  'src/poll/cycle-b.ts': "import type { a } from './cycle-a.js';\nexport const b = 1;\nexport type A = typeof a;\n",
  'src/poll/uses-missing.ts': "import { nothing } from './no-such-file.js';\nexport const n = nothing;\n",
  'src/poll/uses-undeclared.ts': "import { SonicBoom } from 'sonic-boom';\nexport const s = SonicBoom;\n",
  'test/uses-anything.ts':
    "import { startFakeDis } from '../src/simulator/fake-dis.js';\nimport { createLogger } from '../src/logger.js';\n" +
    'export const t = [startFakeDis, createLogger];\n',
};

/** Promises: one break per rule, in TypeScript and in a script, and the patterns the rules allow. */
const PROMISE_PLANTS: Record<string, string> = {
  'src/poll/promises.ts': [
    'export async function poll(): Promise<void> {}',
    'export function floating(): void {',
    '  poll();',
    '}',
    'export function onSignal(): void {',
    "  process.on('SIGHUP', async () => {",
    '    await poll();',
    '  });',
    '}',
    'export function deliberate(): void {',
    '  // Fire and forget: poll() never rejects.',
    '  void poll();',
    '}',
    '',
  ].join('\n'),
  'src/http/async-handler.ts': [
    "import express from 'express';",
    'export const app = express();',
    "app.get('/', async (_request, response) => {",
    '  await Promise.resolve();',
    "  response.send('ok');",
    '});',
    '',
  ].join('\n'),
  'scripts/floating.mjs': "Promise.reject(new Error('planted'));\n",
};

/** Runs one of package.json's scripts in the planted tree, adding arguments (a machine-readable output). */
function runScript(
  tree: string,
  script: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('npm', ['run', '--silent', script, '--', ...args], {
    cwd: tree,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The forbidden rules of .dependency-cruiser.mjs: name → comment (what a break prints). */
async function forbiddenRules(): Promise<Map<string, string>> {
  const module = (await import(pathToFileURL(join(ROOT, '.dependency-cruiser.mjs')).href)) as {
    default: { forbidden: { name: string; comment: string }[] };
  };
  return new Map(module.default.forbidden.map((rule) => [rule.name, rule.comment]));
}

function plant(tree: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
}

describe('npm run lint catches planted breaks (eslint.config.mjs, .dependency-cruiser.mjs)', function () {
  this.timeout(120_000);
  let tree: string;

  before(() => {
    tree = mkdtempSync(join(tmpdir(), 'dis-exporter-lint-'));
    for (const file of CONFIG_FILES) copyFileSync(join(ROOT, file), join(tree, file));
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
    plant(tree, { ...LAYOUT, ...BOUNDARY_PLANTS, ...PROMISE_PLANTS });
  });

  after(() => rmSync(tree, { recursive: true, force: true }));

  it('npm test runs the lint, and the lint runs the boundaries and ESLint', () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts['test']).to.match(/npm run lint\b/);
    expect(scripts['lint']).to.include('npm run lint:boundaries').and.include('npm run lint:eslint');
  });

  it("each import boundary reports its planted break with its rule's explanation, and nothing else", async () => {
    const { status, stdout, stderr } = runScript(tree, 'lint:boundaries');
    // One line per violation, as a person reads it; packages by their path inside node_modules/.
    const printed = stdout.replace(/\s+/g, ' ').replace(/(\.\.\/)+\S*?node_modules\//g, 'node_modules/');
    const expected: [rule: string, from: string, to: string][] = [
      ['config-comes-first', 'src/config/uses-poll.ts', 'src/poll/store.ts'],
      ['dis-knows-only-config', 'src/dis/uses-metrics.ts', 'src/metrics/names.ts'],
      ['poll-before-metrics', 'src/poll/uses-http.ts', 'src/http/server.ts'],
      ['metrics-uses-dis-types-only', 'src/metrics/runs-dis.ts', 'src/dis/errors.ts'],
      ['metrics-before-http', 'src/metrics/uses-web.ts', 'src/web/web-config.ts'],
      ['http-before-web', 'src/http/uses-web.ts', 'src/web/web-config.ts'],
      ['production-never-imports-simulator', 'src/uses-simulator.ts', 'src/simulator/fake-dis.ts'],
      ['folders-import-only-clock-from-top-level', 'src/poll/uses-logger.ts', 'src/logger.ts'],
      ['production-never-imports-tests', 'src/uses-tests.ts', 'test/helpers/manual-clock.ts'],
      ['production-never-imports-dev-dependencies', 'src/http/runs-dev-dependency.ts', 'node_modules/chai/index.js'],
      ['no-cycles', 'src/poll/cycle-a.ts', 'src/poll/cycle-b.ts → src/poll/cycle-a.ts'],
      ['resolvable', 'src/poll/uses-missing.ts', './no-such-file.js'],
      ['declared-packages-only', 'src/poll/uses-undeclared.ts', 'node_modules/sonic-boom/index.js'],
    ];
    // depcruise exits with the number of errors.
    expect(status, `one error per planted break; ${stderr}`).to.equal(expected.length);
    expect(printed.match(/ error [\w-]+: /g), printed).to.have.length(expected.length);
    const rules = await forbiddenRules();
    for (const [rule, from, to] of expected) {
      expect(printed).to.include(` error ${rule}: ${from} → ${to} ${rules.get(rule)?.replace(/\s+/g, ' ')} `);
    }
    // Every rule of the configuration has its plant above: a rule added without one fails here.
    expect([...rules.keys()].sort()).to.deep.equal(expected.map(([rule]) => rule).sort());
  });

  it('ESLint reports a floating promise, a promise where a callback returns nothing, in .ts and .mjs', () => {
    const { status, stdout, stderr } = runScript(tree, 'lint:eslint', '--format', 'json');
    expect(status, `a floating promise fails the lint; ${stderr}`).to.equal(1);
    const results = JSON.parse(stdout) as {
      filePath: string;
      messages: { line: number; severity: number; ruleId: string; message: string }[];
    }[];
    const found = results.flatMap((file) =>
      file.messages.map(
        (m) =>
          `${relative(tree, file.filePath)}:${m.line} ${m.severity === 2 ? 'error' : 'warning'} ${m.ruleId}: ${m.message}`,
      ),
    );
    const floating =
      'Promises must be awaited, end with a call to .catch, end with a call to .then with a rejection handler or be ' +
      'explicitly marked as ignored with the `void` operator.';
    expect(found.sort()).to.deep.equal(
      [
        `scripts/floating.mjs:1 error @typescript-eslint/no-floating-promises: ${floating}`,
        `src/poll/promises.ts:3 error @typescript-eslint/no-floating-promises: ${floating}`,
        'src/poll/promises.ts:6 error @typescript-eslint/no-misused-promises: Promise returned in function argument where a ' +
          'void return was expected.',
      ].sort(),
    );
  });
});
