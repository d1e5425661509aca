import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import baseGot from 'got';
import { freePort } from './net.js';

/** A `prometheus` process started by startPrometheus. */
export type RunningPrometheus = {
  /** Base URL of its HTTP API, e.g. http://127.0.0.1:40123. */
  url: string;
  /** What it has written to stderr so far (its log), for failure messages. */
  log: () => string;
  /** SIGTERM, then waits for it to exit. */
  stop: () => Promise<void>;
};

/**
 * Starts a real `prometheus` with `config` (written as JSON, which is YAML, to dir/prometheus.yml; its TSDB in
 * dir/data) on a free loopback port, and resolves once /-/ready answers 200.
 */
export async function startPrometheus(dir: string, config: object, readySeconds = 30): Promise<RunningPrometheus> {
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, JSON.stringify(config));
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk) => (log += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running: RunningPrometheus = {
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  const got = baseGot.extend({ retry: { limit: 0 }, timeout: { request: 2_000 }, throwHttpErrors: false });
  const deadline = Date.now() + readySeconds * 1000;
  for (;;) {
    const status = await got(`${running.url}/-/ready`).then(
      (response) => response.statusCode,
      () => 0,
    );
    if (status === 200) return running;
    if (child.exitCode !== null || Date.now() > deadline) {
      await running.stop();
      throw new Error(`prometheus did not become ready within ${readySeconds} s\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
