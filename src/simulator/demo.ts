#!/usr/bin/env node
// `npm run demo [-- --auth aksk|oidc|metadata]`: the bundled DIS simulator on loopback and the real exporter against
// it, AK/SK-signed by default, or with CCE workload identity (a rotating service-account JWT traded for IAM tokens),
// or with agency keys from a simulated metadata service.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processIo, run } from '../cli.js';
import { systemClock } from '../clock.js';
import { bundledScenarioPath, loadScenario, serviceAccountJwt, startFakeDis, type FakeDis } from './fake-dis.js';

const SIMULATOR_PORT = Number(process.env.DEMO_SIMULATOR_PORT ?? 0);
const AUTH_METHODS = ['aksk', 'oidc', 'metadata'] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];

/** The identity provider of the demo's workload identity. */
const DEMO_IDP = 'demo-cce-cluster';
const MINUTE = 60_000;
/** How often the demo's "kubelet" writes a new service-account token. */
const JWT_ROTATION_MS = 2 * MINUTE;

/** `--auth <method>` of the command line; aksk without it. */
function authMethod(argv: readonly string[]): AuthMethod | undefined {
  const index = argv.indexOf('--auth');
  if (index === -1) return 'aksk';
  const value = argv[index + 1];
  return AUTH_METHODS.find((method) => method === value);
}

/** Writes a fresh service-account JWT into `file` now and every JWT_ROTATION_MS, as the kubelet does, until `signal`. */
async function rotateServiceAccountToken(file: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    const issuedAtMs = systemClock.now();
    const jwt = serviceAccountJwt({
      subject: 'system:serviceaccount:monitoring:dis-exporter',
      audience: 'dis-exporter',
      issuedAtMs,
      expiresAtMs: issuedAtMs + 60 * MINUTE,
    });
    writeFileSync(file, `${jwt}\n`);
    try {
      await systemClock.sleep(JWT_ROTATION_MS, signal);
    } catch {
      return;
    }
  }
}

/** The environment that makes the exporter authenticate with `method` against the simulator. */
function authEnv(
  method: AuthMethod,
  dis: FakeDis,
  tokenFile: string,
  credential: Readonly<{ accessKey: string; secretKey: string }>,
): Record<string, string> {
  switch (method) {
    case 'aksk':
      return { HUAWEICLOUD_SDK_AK: credential.accessKey, HUAWEICLOUD_SDK_SK: credential.secretKey };
    case 'oidc':
      return {
        DIS_OIDC_IAM_ENDPOINT: dis.url,
        HUAWEICLOUD_SDK_IDP_ID: DEMO_IDP,
        HUAWEICLOUD_SDK_ID_TOKEN_FILE: tokenFile,
      };
    case 'metadata':
      return { DIS_METADATA_ENABLED: 'true', DIS_METADATA_ENDPOINT: dis.metadataUrl! };
  }
}

async function main(): Promise<number> {
  const method = authMethod(process.argv.slice(2));
  if (method === undefined) {
    process.stderr.write(`usage: npm run demo [-- --auth ${AUTH_METHODS.join('|')}]\n`);
    return 2;
  }
  const bundled = loadScenario(bundledScenarioPath('demo.yaml'));
  const credential = bundled.credentials[0];
  if (credential === undefined) throw new Error('demo.yaml has no credentials');
  // Short lifetimes, so that the demo shows renewals within minutes: 10-minute IAM tokens, agency keys that live
  // 10 minutes and are renewed 2 minutes before they expire.
  const scenario = {
    ...bundled,
    iam: { ...bundled.iam, identityProviders: [DEMO_IDP], tokenLifetimeMs: 10 * MINUTE },
    agency: { keyLifetimeMs: 10 * MINUTE, renewBeforeMs: 2 * MINUTE, sessionTokens: 'optional' as const },
  };
  const dis = await startFakeDis({ scenario, host: '127.0.0.1', port: SIMULATOR_PORT });
  const targets = scenario.streams.flatMap((stream) => stream.tasks.map((task) => `${stream.name}/${task.name}`));
  const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-demo-'));
  const tokenFile = join(dir, 'oidc-token');
  const stopRotation = new AbortController();
  const rotation = method === 'oidc' ? rotateServiceAccountToken(tokenFile, stopRotation.signal) : Promise.resolve();

  const env = {
    ...process.env,
    DIS_ENDPOINT: dis.url,
    HUAWEICLOUD_SDK_PROJECT_ID: scenario.projectId,
    ...authEnv(method, dis, tokenFile, credential),
    // discover every dump task of every stream, as a user of `stream: "*"` would, and every app in every stream
    DIS_TARGETS: '*',
    DIS_APPS: '*',
    DIS_DISCOVERY_INTERVAL: process.env.DIS_DISCOVERY_INTERVAL ?? '30s',
    DIS_POLL_INTERVAL: process.env.DIS_POLL_INTERVAL ?? '10s',
    DIS_EXPORTER_HOST: process.env.DIS_EXPORTER_HOST ?? '127.0.0.1',
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
  };
  const authLine = {
    aksk: 'AK/SK signing',
    oidc: `CCE workload identity: a service-account JWT (${tokenFile}, rewritten every 2 min) traded for 10-minute IAM tokens`,
    metadata: `agency keys from the metadata service at ${dis.metadataUrl} (they live 10 min, renewed 2 min ahead)`,
  }[method];
  const code = await run([], env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
    onReloadSignal: processIo.onReloadSignal,
    onListening: (url) => {
      process.stdout.write(
        `\nDIS simulator:  ${dis.url} (${targets.length} dump tasks, discovered by the exporter: ${targets.join(', ')})\n` +
          `Consumer apps:  ${scenario.apps.map((app) => app.name).join(', ')}\n` +
          `Authentication: ${authLine}\n` +
          `Exporter:       ${url}/\n` +
          `Metrics:        ${url}/metrics\n` +
          `Polling every ${env.DIS_POLL_INTERVAL}; values change as the simulated streams grow. Ctrl-C stops.\n\n`,
      );
    },
  });
  stopRotation.abort();
  await rotation;
  rmSync(dir, { recursive: true, force: true });
  await dis.close();
  return code;
}

process.exitCode = await main();
