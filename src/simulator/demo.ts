#!/usr/bin/env node
// `npm run demo`: the bundled DIS simulator on loopback and the real exporter against it, AK/SK-signed.
import { processIo, run } from '../cli.js';
import { bundledScenarioPath, loadScenario, startFakeDis } from './fake-dis.js';

const SIMULATOR_PORT = Number(process.env.DEMO_SIMULATOR_PORT ?? 0);

async function main(): Promise<number> {
  const scenario = loadScenario(bundledScenarioPath('demo.yaml'));
  const credential = scenario.credentials[0];
  if (credential === undefined) throw new Error('demo.yaml has no credentials');
  const dis = await startFakeDis({ scenario, host: '127.0.0.1', port: SIMULATOR_PORT });
  const targets = scenario.streams.flatMap((stream) => stream.tasks.map((task) => `${stream.name}/${task.name}`));

  const env = {
    ...process.env,
    DIS_ENDPOINT: dis.url,
    HUAWEICLOUD_SDK_PROJECT_ID: scenario.projectId,
    HUAWEICLOUD_SDK_AK: credential.accessKey,
    HUAWEICLOUD_SDK_SK: credential.secretKey,
    // discover every dump task of every stream, as a user of `stream: "*"` would, and every app in every stream
    DIS_TARGETS: '*',
    DIS_APPS: '*',
    DIS_DISCOVERY_INTERVAL: process.env.DIS_DISCOVERY_INTERVAL ?? '30s',
    DIS_POLL_INTERVAL: process.env.DIS_POLL_INTERVAL ?? '10s',
    DIS_EXPORTER_HOST: process.env.DIS_EXPORTER_HOST ?? '127.0.0.1',
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
  };
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
          `Exporter:       ${url}/\n` +
          `Metrics:        ${url}/metrics\n` +
          `Polling every ${env.DIS_POLL_INTERVAL}; values change as the simulated streams grow. Ctrl-C stops.\n\n`,
      );
    },
  });
  await dis.close();
  return code;
}

process.exitCode = await main();
