import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import { CREDENTIALS, PROJECT_ID } from '../helpers/exporter.js';
import { deepNesting, emptyObjects, errorBodyAround } from '../helpers/json-bombs.js';
import { freePort } from '../helpers/net.js';
import { startServer } from '../helpers/with-server.js';

// Bad bodies (docs/operations.md ("How the exporter behaves when DIS fails")): the exporter, run as the chart runs
// it (a 128 MB V8 heap cap), polls a DIS that answers one target with a bomb each cycle, bodies under the 8 MiB cap
// that JSON.parse would build into hundreds of MB. The process must live, fail only that target, keep the other one
// up and answer /metrics meanwhile.

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false, timeout: { request: 5_000 } });
/** As the chart and the image run it: `nodeHeapMB` 128 (half of a 256Mi limit) and the entry point's semi-space. */
const NODE_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];
/** The bound on a scrape while a bomb is being handled. */
const MAX_SCRAPE_MS = 1_000;
const TASK = { task_name: 'task', stream_name: 'calm', state: 'RUNNING', destination_type: 'OBS' };

type Bomb = Readonly<{ name: string; status: number; body: string; reason: string }>;

const BOMBS: readonly Bomb[] = [
  { name: '4 Mi nested arrays (8 MiB)', status: 200, body: deepNesting(), reason: 'bad_response' },
  { name: '2.8 Mi empty objects (8 MiB)', status: 200, body: emptyObjects(), reason: 'bad_response' },
  {
    name: 'a 500 whose DIS.5000 sits beside 2.8 Mi empty objects',
    status: 500,
    body: errorBodyAround({ errorCode: 'DIS.5000', message: 'System error.' }, emptyObjects),
    reason: 'server_error',
  },
  {
    name: 'a 400 whose DIS.4354 sits beside 4 Mi nested arrays',
    status: 400,
    body: errorBodyAround({ errorCode: 'DIS.4354', message: 'The transfer task does not exist.' }, deepNesting),
    reason: 'client_error',
  },
];

/** A dump task with one partition at `offset`. */
function taskBody(stream: string, offset: number): string {
  const partition = { partitionId: 'shardId-0000000000', state: 'RUNNING', discard: 0, last_transfer_offset: offset };
  return JSON.stringify({ ...TASK, stream_name: stream, partitions: [partition] });
}

/** VmHWM, the peak resident set of a process since it started or since its last reset, in MiB; then resets it. */
function takePeakRssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
    // "5" resets the peak to the current resident set (proc(5), /proc/pid/clear_refs).
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** The value of the one sample of `name` whose labels include all of `labels`, or undefined. */
function sampleOf(exposition: string, name: string, labels: Readonly<Record<string, string>>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = exposition
    .split('\n')
    .find((text) => text.startsWith(`${name}{`) && wanted.every((pair) => text.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('hostile DIS: JSON bombs against the exporter under a 128 MB heap cap (child process)', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let closeServer: () => Promise<void> = async () => {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-hostile-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await closeServer();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives, fails only the bombed target with the right reason, keeps the other up and /metrics answering', async () => {
    // The bombed target gets BOMBS in turn, then good answers; the calm one always good answers.
    let bombedRequests = 0;
    // [start-up, then each bomb]
    const peakRssMiB: (number | undefined)[] = [];
    const bodies = BOMBS.map((bomb) => Buffer.from(bomb.body));
    const server = await startServer();
    closeServer = () => server.close();
    server.app.use((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '';
      const send = (status: number, body: Buffer | string) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      if (path === `/v2/${PROJECT_ID}/streams/calm/transfer-tasks/task`) return send(200, taskBody('calm', 42));
      if (path !== `/v2/${PROJECT_ID}/streams/bombed/transfer-tasks/task`) return send(404, '{}');
      // The peak since the previous request of this target is that of handling its answer (a cycle apart).
      const peak = child?.pid === undefined ? undefined : takePeakRssMiB(child.pid);
      if (bombedRequests <= BOMBS.length) peakRssMiB.push(peak);
      const index = bombedRequests++;
      const bomb = bodies[index];
      const status = BOMBS[index]?.status;
      if (bomb !== undefined && status !== undefined) send(status, bomb);
      else send(200, taskBody('bombed', 7));
    });
    const endpoint = server.url;

    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `
server: { host: 127.0.0.1, port: ${port} }
log: { level: warn }
dis: { projectId: ${PROJECT_ID}, endpoint: "${endpoint}" }
auth: { accessKey: ${CREDENTIALS.accessKey}, secretKey: ${CREDENTIALS.secretKey} }
targets: [{ stream: bombed, task: task }, { stream: calm, task: task }]
poll: { interval: 1s, timeout: 10s, retries: 0, maxRequestsPerSecond: 0 }
lag: { records: false }
`,
    );
    const started = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'src/main.ts', '--config', config], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout!.on('data', (chunk) => (output += String(chunk)));
    started.stderr!.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<string>((resolve) =>
      started.on('exit', (code, signal) => resolve(`exited (code ${code}, signal ${signal})`)),
    );

    // Scrape back to back until the bombed target has had every bomb and recovered, timing every scrape.
    const base = `http://127.0.0.1:${port}`;
    const scrapeMs: number[] = [];
    let last = '';
    const bombed = { stream: 'bombed', task: 'task' };
    const calm = { stream: 'calm', task: 'task' };
    const calmDown: string[] = [];
    let bombedDownScrapes = 0;
    const deadline = Date.now() + 40_000;
    let death: string | undefined;
    void exited.then((how) => (death = how));
    for (;;) {
      expect(death, `the exporter ${death}:\n${output.slice(-2000)}`).to.equal(undefined);
      expect(Date.now(), `no recovery of the bombed target; last scrape:\n${last}`).to.be.below(deadline);
      const before = performance.now();
      const response = await got(`${base}/metrics`).catch(() => undefined);
      if (response === undefined) {
        // Not listening yet; nothing to time before the first answer.
        expect(scrapeMs, 'the exporter stopped answering /metrics').to.have.length(0);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      scrapeMs.push(performance.now() - before);
      expect(response.statusCode).to.equal(200);
      last = response.body;
      if (sampleOf(last, 'dis_exporter_target_up', calm) === 0) calmDown.push(last);
      if (sampleOf(last, 'dis_exporter_target_up', bombed) === 0) bombedDownScrapes++;
      const recovered = bombedRequests > BOMBS.length && sampleOf(last, 'dis_exporter_target_up', bombed) === 1;
      if (recovered) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const quiet = takePeakRssMiB(started.pid!);
    const rows = ['start-up to the first bomb', ...BOMBS.map((bomb) => bomb.name)].map(
      (what, i) => `      ${what}: ${peakRssMiB[i] ?? '?'} MiB`,
    );
    rows.push(`      good answers since: ${quiet ?? '?'} MiB`);
    console.log(`    peak RSS of the exporter (VmHWM) while it handled each answer:\n${rows.join('\n')}`);
    console.log(`    ${scrapeMs.length} scrapes, the slowest ${Math.round(Math.max(...scrapeMs))} ms`);

    expect(started.exitCode).to.equal(null);
    expect(bombedDownScrapes, 'scrapes that saw the bombed target down').to.be.above(0);
    expect(calmDown, 'the calm target went down').to.deep.equal([]);
    expect(sampleOf(last, 'dis_dump_task_partition_last_transfer_offset', calm)).to.equal(42);
    expect(sampleOf(last, 'dis_dump_task_partition_last_transfer_offset', bombed)).to.equal(7);
    const errors = (target: Record<string, string>) =>
      ['timeout', 'network', 'throttled', 'server_error', 'auth', 'not_found', 'bad_response', 'client_error'].map(
        (reason) => `${reason} ${sampleOf(last, 'dis_exporter_target_errors_total', { ...target, reason })}`,
      );
    const expected = (reason: string) => BOMBS.filter((bomb) => bomb.reason === reason).length;
    expect(errors(bombed)).to.deep.equal(
      ['timeout', 'network', 'throttled', 'server_error', 'auth', 'not_found', 'bad_response', 'client_error'].map(
        (reason) => `${reason} ${expected(reason)}`,
      ),
    );
    expect(errors(calm).every((line) => line.endsWith(' 0'))).to.equal(true);
    expect(Math.max(...scrapeMs)).to.be.below(MAX_SCRAPE_MS);
  });
});
