import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import baseGot from 'got';
import { acceptsGzip, wantsOpenMetrics } from '../../src/http/content-negotiation.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { ScrapePriority } from '../../src/poll/scrape-priority.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';
import { testHttpApp } from '../helpers/http-app.js';

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false, decompress: false });

describe('/metrics over HTTP', () => {
  describe('acceptsGzip', () => {
    const cases: ReadonlyArray<[string | undefined, boolean]> = [
      [undefined, false],
      ['', false],
      ['gzip', true],
      ['GZip', true],
      ['gzip, deflate, br', true],
      ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
      ['x-gzip', true],
      ['identity', false],
      ['deflate', false],
      ['gzip;q=0', false],
      ['gzip; q=0.000', false],
      ['*', true],
      ['*;q=0', false],
      ['*, gzip;q=0', false],
      ['identity;q=1, *;q=0', false],
    ];
    for (const [header, expected] of cases) {
      it(`${JSON.stringify(header)} → ${expected}`, () => expect(acceptsGzip(header)).to.equal(expected));
    }
  });

  describe('wantsOpenMetrics (the Accept header)', () => {
    const cases: ReadonlyArray<[string | undefined, boolean]> = [
      // Prometheus 2.x
      [
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
          'text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        true,
      ],
      // Prometheus 3.x, by default and with legacy names
      [
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;' +
          'version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,' +
          '*/*;q=0.1',
        true,
      ],
      [
        'application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,application/openmetrics-text;' +
          'version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=underscores;q=0.3,text/plain;version=0.0.4;q=0.2,' +
          '*/*;q=0.1',
        true,
      ],
      // Prometheus 3.x with native histograms: protobuf first, which the exporter does not speak
      [
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,' +
          'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.1,' +
          '*/*;q=0.05',
        true,
      ],
      // Prometheus 3.x with scrape_protocols: [PrometheusText0.0.4]
      ['text/plain;version=0.0.4;q=0.2,*/*;q=0.1', false],
      ['application/openmetrics-text; version=1.0.0', true],
      ['Application/OpenMetrics-Text', true],
      ['application/openmetrics-text;q=0,text/plain', false],
      ['application/openmetrics-text;q=0', false],
      ['text/plain;q=0.5, application/*;q=0.6', true],
      ['text/*;q=0.9, application/openmetrics-text;q=0.8', false],
      ['application/openmetrics-text;q=0.5, text/plain;q=0.5', false],
      ['application/openmetrics-text;q=bad, text/plain;q=0.1', false],
      ['*/*', false],
      ['', false],
      [undefined, false],
      ['application/json', false],
      ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ];
    for (const [header, expected] of cases) {
      it(`${JSON.stringify(header)} → ${expected ? 'OpenMetrics' : 'text'}`, () =>
        expect(wantsOpenMetrics(header)).to.equal(expected));
    }
  });

  describe('the endpoint', () => {
    let server: RunningServer | undefined;
    afterEach(async () => {
      await server?.close(0);
      server = undefined;
    });

    async function serve(metrics: (openMetrics: boolean) => AsyncIterable<string>): Promise<string> {
      const app = testHttpApp({
        metrics,
      });
      server = await listen(app, { host: '127.0.0.1', port: 0 });
      return `${server.url}/metrics`;
    }

    // Many chunks, so the body is streamed (and compressed) piece by piece.
    async function* body(openMetrics: boolean): AsyncGenerator<string> {
      for (let i = 0; i < 2000; i++) yield `m{i="${i}"} ${i}\n`;
      yield openMetrics ? '# EOF\n' : '';
    }
    const expected = Array.from({ length: 2000 }, (_, i) => `m{i="${i}"} ${i}\n`).join('');

    it('streams the body uncompressed without Accept-Encoding, with Vary', async () => {
      const response = await got(await serve(body), { headers: { 'accept-encoding': '' } });
      expect(response.statusCode).to.equal(200);
      expect(response.headers['content-encoding']).to.equal(undefined);
      expect(response.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(response.headers['vary']).to.equal('Accept, Accept-Encoding');
      expect(response.body).to.equal(expected);
    });

    it('gzips the body when the scraper accepts gzip, as Prometheus does', async () => {
      const response = await got(await serve(body), {
        headers: { 'accept-encoding': 'gzip', accept: 'application/openmetrics-text; version=1.0.0' },
        responseType: 'buffer',
      });
      expect(response.statusCode).to.equal(200);
      expect(response.headers['content-encoding']).to.equal('gzip');
      expect(response.headers['content-type']).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(response.headers['vary']).to.equal('Accept, Accept-Encoding');
      expect(response.rawBody.length).to.be.lessThan(expected.length / 3);
      expect(gunzipSync(response.rawBody).toString('utf8')).to.equal(`${expected}# EOF\n`);
    });

    it('sends a body many times larger than its buffers, whatever the chunk sizes, in both encodings', async () => {
      // 12 MB: small chunks, chunks of multi-byte characters, and single chunks larger than a buffer
      const pieces = Array.from({ length: 120 }, (_, i) =>
        i % 10 === 3
          ? 'ü'.repeat(400_000)
          : i % 10 === 7
            ? `€${'x'.repeat(29_999)}`
            : `line ${i} ${'y'.repeat(i * 100)}\n`,
      );
      const whole = pieces.join('').repeat(2);
      const url = await serve(async function* () {
        for (let round = 0; round < 2; round++) yield* pieces;
      });
      const plain = await got(url, { headers: { 'accept-encoding': '' } });
      expect(plain.body.length).to.equal(whole.length);
      expect(plain.body === whole).to.equal(true);
      const zipped = await got(url, { headers: { 'accept-encoding': 'gzip' }, responseType: 'buffer' });
      expect(gunzipSync(zipped.rawBody).toString('utf8') === whole).to.equal(true);
    });

    it('sends the text format when OpenMetrics has q=0', async () => {
      const response = await got(await serve(body), {
        headers: { 'accept-encoding': '', accept: 'application/openmetrics-text;q=0,text/plain' },
      });
      expect(response.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
      expect(response.body).to.equal(expected);
    });

    it('does not gzip for gzip;q=0', async () => {
      const response = await got(await serve(body), { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
      expect(response.headers['content-encoding']).to.equal(undefined);
      expect(response.body).to.equal(expected);
    });

    it('answers 500 when rendering fails before the first byte, and keeps serving', async () => {
      let fail = true;
      const url = await serve(async function* (openMetrics) {
        if (fail) throw new Error('registry broke');
        yield* body(openMetrics);
      });
      const failed = await got(url);
      expect([failed.statusCode, failed.body]).to.deep.equal([500, 'error rendering metrics\n']);
      fail = false;
      expect((await got(url, { headers: { 'accept-encoding': '' } })).body).to.equal(expected);
    });

    it('renders a body to its end while its reader does not read: a scrape holds polling back only while it renders', async () => {
      const priority = new ScrapePriority(new ManualClock(Date.UTC(2024, 0, 1)));
      let finished = false;
      const line = `${'x'.repeat(1023)}\n`;
      const url = new URL(
        await serve(() =>
          priority.first(
            (async function* () {
              try {
                // 48 MB: far more than socket buffers hold.
                for (let i = 0; i < 48; i++) yield line.repeat(1024);
              } finally {
                finished = true;
              }
            })(),
          ),
        ),
      );
      const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.pause();
        socket.write('GET /metrics HTTP/1.1\r\nHost: exporter\r\nAccept-Encoding: identity\r\n\r\n');
      });
      try {
        for (let i = 0; i < 400 && !finished; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(finished, 'rendered to the end').to.equal(true);
        let pollingGoesOn = false;
        void priority.turn().then(() => (pollingGoesOn = true));
        await flush();
        expect(pollingGoesOn).to.equal(true);
      } finally {
        socket.destroy();
      }
    });

    it('stops rendering when the scraper hangs up mid-body', async () => {
      let produced = 0;
      let finished = false;
      const url = await serve(async function* () {
        try {
          for (let i = 0; i < 100_000; i++) {
            produced += 1;
            yield `${'x'.repeat(1000)}\n`;
            await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          finished = true;
        }
      });
      const request = got.stream(url, { headers: { 'accept-encoding': '' } });
      await new Promise<void>((resolve) => request.once('data', () => resolve()));
      request.destroy();
      for (let i = 0; i < 200 && !finished; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(finished).to.equal(true);
      expect(produced).to.be.lessThan(100_000);
    });
  });
});
