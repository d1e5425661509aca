// The container image, built from the top-level Dockerfile and run the way users run it: buildah builds it
// (against a local stand-in for node:24-alpine when no registry is reachable, see scripts/image-standin-base.sh),
// podman runs it read-only, without capabilities, against the bundled DIS simulator running in this process.
// Needs buildah, podman and runc (Debian packages, plus busybox-static for the stand-in); skipped without them
// on a developer machine, failing when CI=true.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import baseGot from 'got';
import { bundledScenarioPath, loadScenario, startFakeDis } from '../../src/simulator/fake-dis.js';
import type { FakeDis, Scenario } from '../../src/simulator/fake-dis.js';
import { requireTool } from '../helpers/tools.js';
import { freePort } from '../helpers/net.js';

const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 2_000 } });
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };

// crun cannot run here (cgroups in hybrid mode) and the sandbox may not raise rlimits: runc, fixed ulimits.
const PODMAN = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
// What a careful deployment adds: no writes outside /tmp, no capabilities, no privilege escalation.
const HARDENED = ['--read-only', '--tmpfs', '/tmp', '--cap-drop=ALL', '--security-opt=no-new-privileges'];

type Result = { code: number; stdout: string; stderr: string };

/** Runs a command without blocking the event loop (the simulator in this process must keep answering). */
function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: error !== null && code === -1 ? `${stderr}${error.message}` : stderr });
      },
    );
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a command that must succeed; its stdout. */
async function ok(command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await run(command, args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${tail(result.stdout + result.stderr)}`);
  }
  return result.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function logsOf(name: string): Promise<string> {
  const result = await run('podman', [...PODMAN, 'logs', name]);
  return tail(result.stdout + result.stderr);
}

/** Waits until the exporter in the container answers /-/ready with 200; fails early when the container exits. */
async function waitReady(name: string, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await got(`http://127.0.0.1:${port}/-/ready`, { throwHttpErrors: false }).catch(() => undefined);
    if (response?.statusCode === 200) return;
    const running = await run('podman', [...PODMAN, 'inspect', '--format', '{{.State.Running}}', name]);
    if (running.stdout.trim() !== 'true') throw new Error(`container ${name} is not running:\n${await logsOf(name)}`);
    await sleep(100);
  }
  throw new Error(`container ${name} not ready after 30 s:\n${await logsOf(name)}`);
}

/** `podman stop` (SIGTERM, SIGKILL only after 10 s): how long it took and the exporter's exit code. */
async function stop(name: string): Promise<{ ms: number; exitCode: string }> {
  const started = Date.now();
  await ok('podman', [...PODMAN, 'stop', '--time', '10', name], 30_000);
  const ms = Date.now() - started;
  const exitCode = (await ok('podman', [...PODMAN, 'inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  return { ms, exitCode };
}

function targetUp(exposition: string, projectId: string, stream: string, task: string): string | undefined {
  const prefix = `dis_exporter_target_up{project_id="${projectId}",stream="${stream}",task="${task}"} `;
  return exposition
    .split('\n')
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length);
}

describe('container image (Dockerfile, built with buildah, run with podman)', function () {
  // The build runs `npm ci` against the registry and compiles: ~30 s here, more on a cold npm cache.
  this.timeout(240_000);

  const tag = `localhost/dis-exporter:test-${process.pid}`;
  const containers: string[] = [];
  let built = false;
  let revision = 'unknown';
  let scenario: Scenario;
  let dis: FakeDis | undefined;
  let dir: string | undefined;

  before(async function () {
    for (const tool of ['buildah', 'podman', 'runc']) requireTool(this, tool);
    // the stand-in base below is made of busybox-static and a node of the image's major version
    if ((await run('podman', ['image', 'exists', 'node:24-alpine'])).code !== 0) requireTool(this, 'busybox');
    const git = await run('git', ['rev-parse', 'HEAD']);
    if (git.code === 0) revision = git.stdout.trim();
    // node:24-alpine cannot be pulled here: a local stand-in (does nothing when an image of that name exists).
    await ok('bash', [join(ROOT, 'scripts', 'image-standin-base.sh')], 120_000);
    await ok(
      'buildah',
      [
        'bud',
        '--isolation=chroot',
        '--pull=never',
        '--format=docker', // the OCI format has no HEALTHCHECK
        '--build-arg',
        `VERSION=${PACKAGE.version}`,
        '--build-arg',
        `REVISION=${revision}`,
        '--tag',
        tag,
        '--file',
        join(ROOT, 'Dockerfile'),
        ROOT,
      ],
      220_000,
    );
    built = true;

    scenario = loadScenario(bundledScenarioPath('demo.yaml'));
    dis = await startFakeDis({ scenario, host: '127.0.0.1', port: 0 });
    dis.control.clearFaults(); // the demo's random throttling and latency would only make this test flaky
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-image-'));
  });

  after(async function () {
    this.timeout(60_000);
    for (const name of containers) await run('podman', [...PODMAN, 'rm', '--force', '--time', '0', name]);
    if (built) await run('podman', ['rmi', '--force', tag]);
    await dis?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function credentialEnv(): string[] {
    const credential = scenario.credentials[0];
    if (credential === undefined) throw new Error('demo.yaml has no credentials');
    return [
      '--env',
      `HUAWEICLOUD_SDK_AK=${credential.accessKey}`,
      '--env',
      `HUAWEICLOUD_SDK_SK=${credential.secretKey}`,
    ];
  }

  it('runs as a numeric non-root user, exposes 9873, has a node health check, OCI labels and the config path', async () => {
    const [image] = JSON.parse(await ok('podman', ['image', 'inspect', tag])) as Array<{
      Config: { User?: string; ExposedPorts?: Record<string, unknown>; Env?: string[]; Entrypoint?: string[] };
      Labels?: Record<string, string>;
      Healthcheck?: { Test?: string[] };
    }>;
    const config = image!.Config;
    // numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd
    expect(config.User).to.match(/^[1-9]\d*:[1-9]\d*$/);
    expect(Object.keys(config.ExposedPorts ?? {})).to.deep.equal(['9873/tcp']);
    expect(config.Env).to.include('DIS_EXPORTER_CONFIG=/etc/dis-exporter/config.yaml');
    // exec form: node is PID 1 and receives SIGTERM itself
    expect(config.Entrypoint).to.deep.equal(['node', '--max-semi-space-size=8', 'dist/src/main.js']);
    const check = image!.Healthcheck?.Test ?? [];
    expect(check.slice(0, 2)).to.deep.equal(['CMD', 'node']);
    expect(check.join(' ')).to.include('/-/healthy');
    expect(image!.Labels).to.include({
      'org.opencontainers.image.title': 'dis-exporter',
      'org.opencontainers.image.version': PACKAGE.version,
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.licenses': PACKAGE.license,
    });
    expect(image!.Labels?.['org.opencontainers.image.source']).to.match(/^https:\/\//);
  });

  it('holds the compiled exporter and its production dependencies only', async () => {
    const script = `
      const fs = require('node:fs'), path = require('node:path');
      let bytes = 0;
      const walk = (dir, out) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const file = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(file, out);
          else { bytes += fs.lstatSync(file).size; if (!file.startsWith('/app/node_modules/')) out.push(file); }
        }
        return out;
      };
      let appWritable = true;
      try { fs.accessSync('/app', fs.constants.W_OK); } catch { appWritable = false; }
      console.log(JSON.stringify({
        uid: process.getuid(),
        app: fs.readdirSync('/app').sort(),
        files: walk('/app', []),
        bytes,
        modules: fs.readdirSync('/app/node_modules'),
        typesNode: fs.existsSync('/app/node_modules/@types/node'),
        placeholder: fs.readFileSync('/etc/dis-exporter/config.yaml', 'utf8'),
        appWritable,
      }));`;
    const output = await ok('podman', [...PODMAN, 'run', '--rm', ...LIMITS, '--entrypoint', 'node', tag, '-e', script]);
    const found = JSON.parse(output) as {
      uid: number;
      app: string[];
      files: string[];
      bytes: number;
      modules: string[];
      typesNode: boolean;
      placeholder: string;
      appWritable: boolean;
    };
    expect(found.uid).to.not.equal(0);
    expect(found.app).to.deep.equal(['config', 'dist', 'node_modules', 'package.json']);
    expect(found.files).to.include.members(['/app/dist/src/main.js', '/app/dist/build-info.json']);
    expect(found.files.filter((file) => /\.ts$|\.map$|\/test\/|\/\.git\//.test(file))).to.deep.equal([]);
    expect(found.modules).to.include.members(['express', 'prom-client', 'pino', 'got', 'convict', 'yaml']);
    for (const dev of ['typescript', 'mocha', 'chai', 'tsx', 'prettier', 'esbuild', 'kubernetes-models']) {
      expect(found.modules, dev).to.not.include(dev);
    }
    expect(found.typesNode).to.equal(false);
    // the placeholder config holds no settings (comments only), so env-only configuration works
    expect(found.placeholder.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))).to.deep.equal(
      [],
    );
    expect(found.appWritable, 'the runtime user can modify /app').to.equal(false);
    // what the image adds to the base stays small: dev dependencies (typescript alone is tens of MB) would show
    expect(found.bytes).to.be.below(40 * 1024 * 1024);
  });

  it('with a config file mounted at /etc/dis-exporter/config.yaml: serves the simulated tasks read-only, is healthy, stops on SIGTERM with 0', async () => {
    const port = await freePort();
    // As users deploy it: the settings in a mounted (ConfigMap) file, credentials from the environment (a Secret).
    const file = join(dir!, 'config.yaml');
    writeFileSync(
      file,
      [
        `dis:`,
        `  projectId: ${scenario.projectId}`,
        `targets:`,
        `  - { stream: orders, task: orders-to-obs }`,
        `  - { stream: clicks, task: "*" }`,
        `poll:`,
        `  timeout: 5s`,
        ``,
      ].join('\n'),
      { mode: 0o644 },
    );
    const name = `dis-exporter-test-${process.pid}-file`;
    containers.push(name);
    await ok('podman', [
      ...PODMAN,
      'run',
      '--detach',
      '--name',
      name,
      '--network=host',
      ...HARDENED,
      ...LIMITS,
      '--volume',
      `${file}:/etc/dis-exporter/config.yaml:ro`,
      '--env',
      `DIS_ENDPOINT=${dis!.url}`,
      ...credentialEnv(),
      '--env',
      `DIS_EXPORTER_PORT=${port}`,
      '--env',
      'DIS_EXPORTER_HOST=127.0.0.1',
      tag,
    ]);
    await waitReady(name, port);

    const text = (await got(`http://127.0.0.1:${port}/metrics`)).body;
    expect(targetUp(text, scenario.projectId, 'orders', 'orders-to-obs')).to.equal('1');
    expect(targetUp(text, scenario.projectId, 'clicks', 'clicks-to-dli')).to.equal('1');
    expect(text).to.include(`dis_exporter_build_info{version="${PACKAGE.version}",revision="${revision}",`);
    // the base image's Node.js line, which the semi-space flag in the entry point was measured with
    expect(text).to.match(/^dis_exporter_build_info\{[^}]*nodejs_version="v24\.\d+\.\d+"\} 1$/m);
    const health = await run('podman', [...PODMAN, 'healthcheck', 'run', name]);
    expect(health.code, `podman healthcheck run: ${health.stdout}${health.stderr}`).to.equal(0);

    const stopped = await stop(name);
    expect(stopped.exitCode).to.equal('0');
    expect(stopped.ms, 'podman stop took so long that it may have needed SIGKILL').to.be.below(5_000);
    const logs = await logsOf(name);
    expect(logs).to.include('"msg":"stopped"');
    expect(logs).to.not.match(/EROFS|EACCES/);
    expect(logs).to.not.include(scenario.credentials[0]!.secretKey);
  });

  it('without a mounted file: configured by environment variables alone, and takes arguments like --check-config', async () => {
    const port = await freePort();
    const env = [
      '--env',
      `DIS_ENDPOINT=${dis!.url}`,
      '--env',
      `HUAWEICLOUD_SDK_PROJECT_ID=${scenario.projectId}`,
      ...credentialEnv(),
      '--env',
      'DIS_TARGETS=orders/orders-to-obs,payments/*',
      '--env',
      `DIS_EXPORTER_PORT=${port}`,
      '--env',
      'DIS_EXPORTER_HOST=127.0.0.1',
    ];
    // arguments after the image name go to the exporter (ENTRYPOINT), as Kubernetes `args:` do
    const check = await run('podman', [
      ...PODMAN,
      'run',
      '--rm',
      ...HARDENED,
      ...LIMITS,
      ...env,
      tag,
      '--check-config',
    ]);
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stdout).to.include('[REDACTED]').and.include('orders-to-obs');
    expect(check.stdout).to.not.include(scenario.credentials[0]!.secretKey);

    const name = `dis-exporter-test-${process.pid}-env`;
    containers.push(name);
    await ok('podman', [
      ...PODMAN,
      'run',
      '--detach',
      '--name',
      name,
      '--network=host',
      ...HARDENED,
      ...LIMITS,
      ...env,
      tag,
    ]);
    await waitReady(name, port);
    const text = (await got(`http://127.0.0.1:${port}/metrics`)).body;
    expect(targetUp(text, scenario.projectId, 'orders', 'orders-to-obs')).to.equal('1');
    expect(targetUp(text, scenario.projectId, 'payments', 'payments-to-mrs')).to.equal('1');
    const stopped = await stop(name);
    expect(stopped.exitCode).to.equal('0');
    expect(stopped.ms).to.be.below(5_000);
  });
});
