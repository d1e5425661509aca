// A scraper in a process of its own (forked by bench/run.ts), like Prometheus: its reading of the responses costs the
// exporter neither CPU nor event-loop time. Each scrape is timed from the request to the last byte of the body.
import http from 'node:http';

/** Messages from bench/run.ts. */
export type ScraperRequest =
  /**
   * Scrapes `count` times, or until a `stop` when it is undefined: back to back, or one every `intervalMs` (the next
   * starts at once when one takes longer).
   */
  | Readonly<{ type: 'scrape'; url: string; gzip: boolean; count?: number; intervalMs?: number }>
  | Readonly<{ type: 'stop' }>
  | Readonly<{ type: 'exit' }>;

/** One scrape: when it started (epoch ms), milliseconds to the last byte, bytes received (compressed when gzip), HTTP status. */
export type ScrapeTiming = Readonly<{ startedAtMs: number; ms: number; bytes: number; status: number }>;

/** Messages to bench/run.ts. */
export type ScraperReply =
  Readonly<{ type: 'scrapes'; timings: ScrapeTiming[] }> | Readonly<{ type: 'error'; message: string }>;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stopped = false;

function send(reply: ScraperReply): void {
  process.send?.(reply);
}

function scrapeOnce(url: string, gzip: boolean): Promise<ScrapeTiming> {
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const request = http.get(
      url,
      { agent, headers: { 'accept-encoding': gzip ? 'gzip' : 'identity', accept: 'text/plain;version=0.0.4' } },
      (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        response.on('end', () =>
          resolve({
            startedAtMs: performance.timeOrigin + startedMs,
            ms: performance.now() - startedMs,
            bytes,
            status: response.statusCode ?? 0,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

async function scrape(url: string, gzip: boolean, count: number | undefined, intervalMs: number): Promise<void> {
  stopped = false;
  const timings: ScrapeTiming[] = [];
  while (!stopped && (count === undefined || timings.length < count)) {
    const timing = await scrapeOnce(url, gzip);
    timings.push(timing);
    const waitMs = timing.startedAtMs + intervalMs - (performance.timeOrigin + performance.now());
    if (waitMs > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  send({ type: 'scrapes', timings });
}

process.on('disconnect', () => {
  stopped = true;
  agent.destroy();
});

process.on('message', (message: ScraperRequest) => {
  switch (message.type) {
    case 'scrape':
      void scrape(message.url, message.gzip, message.count, message.intervalMs ?? 0).catch((error: unknown) =>
        send({ type: 'error', message: String(error) }),
      );
      return;
    case 'stop':
      stopped = true;
      return;
    case 'exit':
      process.disconnect();
      return;
  }
});
