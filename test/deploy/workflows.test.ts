// The GitHub Actions workflows (.github/workflows): every file passes action-validator (the JSON schema of a
// workflow file), and what a release depends on is asserted, so that an edit dropping a step fails here rather
// than on the next tag. Needs no system tool and no network: action-validator is WebAssembly with the schema
// compiled in, and runs here with sockets refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS = join(ROOT, '.github', 'workflows');

type Step = { name?: string; id?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Env };
type Env = Record<string, string>;
type Job = {
  name?: string;
  'runs-on'?: string;
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
};
type Workflow = {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': unknown };
  jobs: Record<string, Job>;
};

/** The action-validator command line, as its package's bin names it. */
function validatorCli(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@action-validator/cli/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(manifest), bin['action-validator']!);
}

/**
 * Loaded before the validator with --import: any TCP connection (node:net, node:http(s), fetch) reports itself
 * on stderr and throws, so a validator that fetched its schema at run time would show up here.
 */
const NETWORK_GUARD = `import net from 'node:net';
net.Socket.prototype.connect = function () {
  process.stderr.write('network access attempted\\n');
  throw new Error('network access attempted');
};
`;

type Result = { code: number | null; stdout: string; stderr: string };

function readWorkflow(file: string): Workflow {
  return parse(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow;
}

function stepsUsing(job: Job, action: string): Step[] {
  return (job.steps ?? []).filter((step) => step.uses?.split('@')[0] === action);
}

function onlyStepUsing(job: Job, action: string): Step {
  const steps = stepsUsing(job, action);
  expect(steps, `steps using ${action}`).to.have.length(1);
  return steps[0]!;
}

function stepNamed(job: Job, name: string): Step {
  const step = (job.steps ?? []).find((candidate) => candidate.name === name);
  expect(step, `step "${name}"`).to.not.equal(undefined);
  return step!;
}

/** The Node.js major version of the image's runtime stage (its last FROM node:<major>...). */
function imageNodeMajor(dockerfile: string): string {
  const froms = [...dockerfile.matchAll(/^FROM\s+(?:--platform=\S+\s+)?node:(\d+)\S*/gm)];
  return froms.at(-1)![1]!;
}

/** A label's value as the Dockerfile's LABEL instruction sets it. */
function dockerfileLabel(dockerfile: string, key: string): string | undefined {
  return new RegExp(`${key.replaceAll('.', '\\.')}="([^"$]*)"`).exec(dockerfile)?.[1];
}

type LockPackage = { dev?: boolean; devOptional?: boolean; hasInstallScript?: boolean; os?: string[]; cpu?: string[] };

/**
 * Production packages of a package-lock.json (v2/v3) that are built or chosen for one platform: an install
 * script (node-gyp and the like) or an os/cpu restriction. The Dockerfile builds on the builder's platform and
 * copies node_modules into images for every platform, which is right only while this list is empty.
 */
function platformSpecificPackages(lock: { packages: Record<string, LockPackage> }): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.dev !== true && entry.devOptional !== true)
    .filter(([, entry]) => entry.hasInstallScript === true || entry.os !== undefined || entry.cpu !== undefined)
    .map(([path]) => path);
}

describe('GitHub Actions workflows (.github/workflows)', () => {
  let dir: string;
  let guard: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-workflows-'));
    guard = join(dir, 'network-guard.mjs');
    writeFileSync(guard, NETWORK_GUARD);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function validate(path: string): Result {
    const result = spawnSync(process.execPath, ['--import', guard, validatorCli(), path], { encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Writes a workflow to the temp folder and validates it: the validator's exit code and its errors (JSON). */
  function validateText(name: string, text: string): { code: number | null; errors: unknown } {
    const path = join(dir, name);
    writeFileSync(path, text);
    const result = validate(path);
    expect(result.stderr).to.not.include('network access attempted');
    return {
      code: result.code,
      errors: result.code === 0 ? [] : (JSON.parse(result.stderr) as { errors: unknown }).errors,
    };
  }

  describe('action-validator (the workflow schema)', () => {
    it('finds the CI and the release workflow', () => {
      expect(readdirSync(WORKFLOWS).sort()).to.deep.equal(['ci.yml', 'release.yml']);
    });

    for (const file of readdirSync(WORKFLOWS).sort()) {
      it(`passes ${file}, without touching the network`, () => {
        const result = validate(join(WORKFLOWS, file));
        expect(result, `${result.stdout}${result.stderr}`).to.deep.equal({ code: 0, stdout: '', stderr: '' });
      });
    }

    it('the network guard it runs under does stop a connection', () => {
      const result = spawnSync(
        process.execPath,
        ['--import', guard, '-e', "require('node:http').get('http://127.0.0.1:1/')"],
        { encoding: 'utf8' },
      );
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(/^network access attempted\n/);
    });

    it('fails a workflow whose job has no runs-on, naming the missing property', () => {
      const broken = ['on: push', 'jobs:', '  build:', '    steps:', '      - run: npm test', ''].join('\n');
      const { code, errors } = validateText('no-runs-on.yml', broken);
      expect(code).to.equal(1);
      expect(errors).to.deep.equal([
        {
          code: 'one_of',
          path: '/jobs/build',
          title: 'OneOf conditions are not met',
          states: [
            { errors: [{ code: 'required', path: '/jobs/build/runs-on', title: 'This property is required' }] },
            {
              errors: [
                {
                  code: 'properties',
                  detail: "Additional property 'steps' is not allowed",
                  path: '/jobs/build',
                  title: 'Property conditions are not met',
                },
                { code: 'required', path: '/jobs/build/uses', title: 'This property is required' },
              ],
            },
          ],
        },
      ]);
    });

    it('fails a workflow with an unknown event (on: pushh)', () => {
      const broken = [
        'on: pushh',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: npm test',
        '',
      ];
      const { code, errors } = validateText('unknown-event.yml', broken.join('\n'));
      expect(code).to.equal(1);
      expect(errors).to.have.length(1);
      const [error] = errors as Array<{ code: string; path: string; states: Array<{ errors: unknown[] }> }>;
      expect(error).to.include({ code: 'one_of', path: '/on' });
      expect(error!.states[0]!.errors).to.deep.equal([
        { code: 'enum', path: '/on', title: 'Enum conditions are not met' },
      ]);
    });
  });

  describe('ci.yml', () => {
    const ci = readWorkflow('ci.yml');

    it('runs on pushes and pull requests to main, and as the release workflow checks (workflow_call)', () => {
      expect(ci.on).to.deep.equal({
        push: { branches: ['main'] },
        pull_request: { branches: ['main'] },
        workflow_call: null,
      });
    });

    it('may only read the repository', () => {
      expect(ci.permissions).to.deep.equal({ contents: 'read' });
      for (const [id, job] of Object.entries(ci.jobs)) expect(job.permissions, id).to.equal(undefined);
    });

    it('runs .ci/run as root, on the oldest Node.js that engines allows', () => {
      const job = ci.jobs['ci-run']!;
      const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
        .engines.node;
      expect(engines).to.match(/^>=20\./);
      expect(onlyStepUsing(job, 'actions/setup-node').with).to.include({ 'node-version': '20' });
      expect(stepNamed(job, 'bash .ci/run').run).to.match(/^sudo env "PATH=\$PATH" bash \.ci\/run$/m);
    });

    it("runs the unit and integration tests on the image's Node.js as well", () => {
      const job = ci.jobs['newer-node']!;
      const major = imageNodeMajor(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
      expect(major).to.equal('24');
      expect(job.strategy?.matrix?.['node-version']).to.include(major);
      expect(onlyStepUsing(job, 'actions/setup-node').with).to.include({
        'node-version': '${{ matrix.node-version }}',
      });
    });

    it('selects exactly the unit and integration tests with its mocha command (checked with --dry-run)', function () {
      this.timeout(60_000);
      const commands = (ci.jobs['newer-node']!.steps ?? []).flatMap((step) =>
        step.run?.startsWith('npx mocha') === true ? [step.run] : [],
      );
      expect(commands).to.have.length(1);
      const result = spawnSync('sh', ['-c', `${commands[0]} --dry-run --reporter json`], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(result.status, result.stderr).to.equal(0);
      const { tests } = JSON.parse(result.stdout) as { tests: Array<{ file: string }> };
      const folders = new Set(tests.map((test) => relative(ROOT, test.file).split(sep).slice(0, 2).join('/')));
      expect([...folders].sort()).to.deep.equal(['test/integration', 'test/unit']);
    });
  });

  describe('release.yml', () => {
    const release = readWorkflow('release.yml');
    const publish = release.jobs.publish!;
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

    it('runs on v* tags only, after the checks of ci.yml', () => {
      expect(release.on).to.deep.equal({ push: { tags: ['v*'] } });
      expect(release.jobs.checks).to.deep.equal({
        name: 'Checks',
        uses: './.github/workflows/ci.yml',
        permissions: { contents: 'read' },
      });
      expect(publish.needs).to.equal('checks');
      // a concurrency group of its own: the same group as ci.yml's would make the release wait for itself
      expect(release.concurrency).to.deep.equal({ group: 'release-${{ github.ref }}', 'cancel-in-progress': false });
    });

    it('asks for nothing by default, and the publishing job for contents and packages only', () => {
      expect(release.permissions).to.deep.equal({});
      expect(publish.permissions).to.deep.equal({ contents: 'write', packages: 'write' });
    });

    it('builds the image for linux/amd64 and linux/arm64 with buildx and pushes it with provenance and an SBOM', () => {
      onlyStepUsing(publish, 'docker/setup-qemu-action');
      onlyStepUsing(publish, 'docker/setup-buildx-action');
      expect(onlyStepUsing(publish, 'docker/login-action').with).to.deep.equal({
        registry: 'ghcr.io',
        username: '${{ github.actor }}',
        password: '${{ secrets.GITHUB_TOKEN }}',
      });
      const build = onlyStepUsing(publish, 'docker/build-push-action').with!;
      expect(String(build.platforms).split(',')).to.deep.equal(['linux/amd64', 'linux/arm64']);
      expect(build).to.include({
        push: true,
        sbom: true,
        provenance: 'mode=max',
        tags: '${{ steps.meta.outputs.tags }}',
      });
      expect(String(build['build-args']).trim().split('\n')).to.deep.equal([
        'VERSION=${{ steps.names.outputs.version }}',
        'REVISION=${{ github.sha }}',
        'SOURCE=${{ github.server_url }}/${{ github.repository }}',
      ]);
    });

    it("labels the image as the Dockerfile does (metadata-action would blank what the repository's settings lack)", () => {
      const meta = onlyStepUsing(publish, 'docker/metadata-action').with!;
      for (const field of ['labels', 'annotations']) {
        const set = Object.fromEntries(
          String(meta[field])
            .trim()
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        for (const key of ['title', 'description', 'licenses'].map((name) => `org.opencontainers.image.${name}`)) {
          expect(dockerfileLabel(dockerfile, key), key).to.be.a('string');
          expect(set[key], `${field}: ${key}`).to.equal(dockerfileLabel(dockerfile, key));
        }
      }
    });

    it('writes an SPDX SBOM of the pushed image per platform and attaches both to the GitHub release', () => {
      const sboms = stepsUsing(publish, 'anchore/sbom-action');
      expect(sboms.map((step) => step.env?.SYFT_PLATFORM)).to.deep.equal(['linux/amd64', 'linux/arm64']);
      const releaseRun = stepNamed(publish, 'GitHub release').run!;
      for (const [index, arch] of ['amd64', 'arm64'].entries()) {
        expect(sboms[index]!.with).to.include({
          image: '${{ steps.names.outputs.image }}@${{ steps.build.outputs.digest }}',
          format: 'spdx-json',
          'output-file': `dis-exporter-\${{ steps.names.outputs.version }}-linux-${arch}.spdx.json`,
        });
        expect(releaseRun).to.include(`"dis-exporter-$VERSION-linux-${arch}.spdx.json"`);
      }
    });

    it('packages the chart with the version from the tag and pushes it as an OCI artifact', () => {
      const packageRun = stepNamed(publish, 'Package the Helm chart').run!;
      expect(packageRun).to.include(
        '.tools/helm package helm/dis-exporter --version "$VERSION" --app-version "$VERSION" --destination .release',
      );
      const push = stepNamed(publish, 'Push the Helm chart');
      expect(push.env?.CHARTS).to.equal('${{ steps.names.outputs.charts }}');
      expect(push.run).to.include('.tools/helm push ".release/dis-exporter-$VERSION.tgz" "$CHARTS"');
      expect(stepNamed(publish, 'GitHub release').run).to.include('".release/dis-exporter-$VERSION.tgz"');
    });

    it('finds in values.yaml the image.repository line it points at the pushed image', () => {
      const values = readFileSync(join(ROOT, 'helm', 'dis-exporter', 'values.yaml'), 'utf8');
      expect((parse(values) as { image: { repository: string } }).image.repository).to.equal('dis-exporter');
      expect(values.split('\n').filter((line) => line === '  repository: dis-exporter')).to.have.length(1);
      expect(stepNamed(publish, 'Package the Helm chart').run).to.include(
        `sed -i "s|^  repository: dis-exporter\\$|  repository: $IMAGE|" "$values"`,
      );
    });

    describe('the version step (run with bash)', () => {
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

      function names(tag: string): { code: number | null; outputs: string; stdout: string } {
        const output = join(dir, `output-${tag}`);
        writeFileSync(output, '');
        const result = spawnSync('bash', ['-e', '-c', stepNamed(publish, 'Version and names from the tag').run!], {
          cwd: ROOT,
          encoding: 'utf8',
          env: {
            PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
            TAG: tag,
            OWNER: 'Dis-Exporter',
            GITHUB_OUTPUT: output,
          },
        });
        return { code: result.status, outputs: readFileSync(output, 'utf8'), stdout: result.stdout };
      }

      it("takes the version from a tag equal to package.json's, and lower-cases the owner for ghcr.io", () => {
        expect(names(`v${version}`)).to.deep.equal({
          code: 0,
          stdout: '',
          outputs: [
            `version=${version}`,
            'image=ghcr.io/dis-exporter/dis-exporter',
            'charts=oci://ghcr.io/dis-exporter/charts',
            'prerelease=false',
            '',
          ].join('\n'),
        });
      });

      it("refuses a tag that differs from package.json's version", () => {
        expect(names('v99.0.0')).to.deep.equal({
          code: 1,
          outputs: '',
          stdout: `::error::tag v99.0.0 but package.json has version ${version}: bump package.json, then tag\n`,
        });
      });

      it('refuses a tag that is not a SemVer version without build metadata', () => {
        for (const tag of ['vnext', 'v1.2', 'v01.2.3', `v${version}+build.1`]) {
          expect(names(tag), tag).to.deep.equal({
            code: 1,
            outputs: '',
            stdout: `::error::tag ${tag} is not v<major>.<minor>.<patch>[-<pre-release>]\n`,
          });
        }
      });
    });
  });

  it('pins every action of another repository to a commit SHA, with its version in a comment', () => {
    for (const file of readdirSync(WORKFLOWS)) {
      const uses = readFileSync(join(WORKFLOWS, file), 'utf8')
        .split('\n')
        .filter((line) => /^\s*(?:- )?uses:/.test(line) && !/uses: \.\//.test(line));
      expect(uses.length, file).to.be.greaterThan(0);
      for (const line of uses) {
        expect(line, file).to.match(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  describe('the Dockerfile for a multi-platform build', () => {
    it("compiles on the builder's platform", () => {
      const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
      expect(dockerfile).to.match(/^FROM --platform=\$BUILDPLATFORM node:\d+-alpine AS build$/m);
    });

    it('copies production dependencies that are the same on every platform', () => {
      const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, LockPackage>;
      };
      expect(platformSpecificPackages(lock)).to.deep.equal([]);
    });

    it('would notice a production dependency with native code or for one platform only', () => {
      const lock = {
        packages: {
          '': {},
          'node_modules/pure': {},
          'node_modules/native-addon': { hasInstallScript: true },
          'node_modules/@scope/linux-x64': { os: ['linux'], cpu: ['x64'] },
          'node_modules/esbuild': { dev: true, hasInstallScript: true },
          'node_modules/@esbuild/linux-arm64': { dev: true, os: ['linux'], cpu: ['arm64'] },
          'node_modules/fsevents': { devOptional: true, os: ['darwin'] },
        },
      };
      expect(platformSpecificPackages(lock)).to.deep.equal([
        'node_modules/native-addon',
        'node_modules/@scope/linux-x64',
      ]);
    });
  });
});
