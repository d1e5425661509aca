import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import baseGot from 'got';
import type { LargeExporterOptions, LargeExporterReady } from '../helpers/large-exporter-process.js';

const got = baseGot.extend({ retry: { limit: 0 } });
const PROCESS = fileURLToPath(new URL('../helpers/large-exporter-process.ts', import.meta.url));
/** Prometheus 2.x's Accept header. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const SEND_TIMEOUT_MS = 3000;
const SLOW_READERS = 30;
/**
 * How much the exporter's RSS may grow while the slow readers hang on. Each of them used to hold 8 MiB of body
 * buffers (30 × 8 MiB); now they share one gzipped body.
 */
const MAX_GROWTH_MB = 60;

/** Resident and peak resident memory of a process in MB (Linux). */
function memoryOf(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string): number => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMB: kB('VmRSS') / 1024, peakMB: kB('VmHWM') / 1024 };
}

/** A client that asks for /metrics uncompressed and then does not read. */
function slowReader(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.pause();
      socket.write(`GET /metrics HTTP/1.1\r\nHost: ${hostname}\r\nAccept-Encoding: identity\r\n\r\n`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Reads what is left on a paused socket until the server closes it; undefined if it is still open after `waitMs`. */
function drain(socket: Socket, waitMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const timer = setTimeout(() => resolve(undefined), waitMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

describe('slow readers (the exporter in a child process)', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;
  const sockets: Socket[] = [];

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    child?.kill('SIGKILL');
    child = undefined;
  });

  async function startLargeExporter(options: LargeExporterOptions): Promise<{ url: string; pid: number }> {
    const started = fork(PROCESS, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child = started;
    const ready = await new Promise<LargeExporterReady>((resolve, reject) => {
      started.once('message', (message) => resolve(message as LargeExporterReady));
      started.once('exit', (code) => reject(new Error(`the exporter exited with ${code}`)));
    });
    return { url: ready.url, pid: started.pid! };
  }

  it('30 clients that never read a 13 MB body: memory stays bounded, they are cut off, a scrape meanwhile is whole', async () => {
    const { url, pid } = await startLargeExporter({ tasks: 1000, partitions: 4, sendTimeoutMs: SEND_TIMEOUT_MS });
    const reference = (await got(`${url}/metrics`, { headers: { 'accept-encoding': 'gzip' } })).body;
    expect(reference.length).to.be.greaterThan(10_000_000);
    expect(reference.endsWith('\n')).to.equal(true);
    const before = memoryOf(pid);
    // Resets the peak (VmHWM) to the current RSS.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');

    const startedMs = performance.now();
    sockets.push(...(await Promise.all(Array.from({ length: SLOW_READERS }, () => slowReader(url)))));
    // Scrapes while they hang on get the whole body, compressed and not.
    const gzipped = await got(`${url}/metrics`, {
      headers: { 'accept-encoding': 'gzip', accept: 'text/plain;version=0.0.4' },
    });
    expect(gzipped.body === reference, 'gzip scrape during the slow readers').to.equal(true);
    const plain = await got(`${url}/metrics`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.body === reference, 'plain scrape during the slow readers').to.equal(true);
    const openMetrics = await got(`${url}/metrics`, {
      headers: { 'accept-encoding': 'gzip', accept: PROMETHEUS_ACCEPT },
    });
    expect(openMetrics.headers['content-type']).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(openMetrics.body.endsWith('# EOF\n')).to.equal(true);

    // Well past the send timeout, each slow reader's connection is closed: what it still reads ends before its body.
    await new Promise((resolve) => setTimeout(resolve, SEND_TIMEOUT_MS + 3000 - (performance.now() - startedMs)));
    const rests = await Promise.all(sockets.map((socket) => drain(socket, 10_000)));
    const peakMB = memoryOf(pid).peakMB;
    const cut = rests.filter((rest) => rest !== undefined && rest.length < reference.length);
    expect(cut.length, 'slow readers cut off').to.equal(SLOW_READERS);
    for (const rest of cut) expect(rest!.subarray(-5).toString()).to.not.equal('0\r\n\r\n');
    expect(peakMB - before.rssMB, 'RSS growth in MB').to.be.lessThan(MAX_GROWTH_MB);
  });
});
