import { expect } from 'chai';
import got, { RequestError } from 'got';
import { signRequest } from '../../src/dis/signer.js';
import { parseScenario, type FakeDis } from '../../src/simulator/fake-dis.js';
import { until } from '../helpers/manual-clock.js';
import { T0, PROJECT, CREDS, BASE, SCENARIO_DATA, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, start } = sim;

  describe('faults', () => {
    it('latency waits on the clock for latencyMs, then answers normally', async () => {
      sim.dis.control.addFault({ kind: 'latency', latencyMs: 250, match: { operation: 'show_stream' } });
      const delayed = get(`${BASE}/streams/s1`);
      await until(() => sim.clock.sleeping === 1);
      expect(sim.clock.nextWake).to.equal(T0 + 250);
      await sim.clock.advance(250);
      expect((await delayed).status).to.equal(200);
      // A request the fault does not match answers while the clock stands still.
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(sim.clock.sleeping).to.equal(0);
      expect(sim.dis.control.requests().map((r) => [r.operation, r.status, r.faults])).to.deep.equal([
        ['show_stream', 200, ['latency']],
        ['list_streams', 200, []],
      ]);
    });

    it('status answers with the given body, only for matching requests and only `times` times', async () => {
      const body = { errorCode: 'DIS.4305', message: 'Too many stream requests.' };
      sim.dis.control.addFault({
        kind: 'status',
        status: 400,
        body,
        times: 2,
        match: { operation: 'show_transfer_task', stream: 's1', task: 'to-obs' },
      });
      const first = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([first.status, first.body]).to.deep.equal([400, body]);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-dws`)).status).to.equal(200);
      expect((await get(`${BASE}/streams/s1/transfer-tasks`)).status).to.equal(200);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-obs`)).status).to.equal(400);
      expect((await get(`${BASE}/streams/s1/transfer-tasks/to-obs`)).status).to.equal(200);
    });

    it('status sends a Retry-After header when the fault gives one (an integer means seconds)', async () => {
      sim.dis.control.addFault({ kind: 'status', status: 429, retryAfter: 'Wed, 15 Nov 2023 00:00:05 GMT', times: 1 });
      const [fromYaml] = parseScenario({
        ...SCENARIO_DATA,
        faults: [{ kind: 'status', status: 503, retryAfter: 7 }],
      }).faults;
      expect(fromYaml).to.deep.equal({ kind: 'status', status: 503, retryAfter: '7' });
      sim.dis.control.addFault({ kind: 'status', status: 503, retryAfter: '7' });
      const headerOf = async () => {
        const url = new URL(`${sim.dis.url}${BASE}/streams`);
        const headers = { 'X-Project-Id': PROJECT };
        const response = await got(url, {
          headers: { ...headers, ...signRequest({ method: 'GET', url, headers }, CREDS, sim.clock.now()) },
          throwHttpErrors: false,
          retry: { limit: 0 },
        });
        return [response.statusCode, response.headers['retry-after']];
      };
      expect(await headerOf()).to.deep.equal([429, 'Wed, 15 Nov 2023 00:00:05 GMT']);
      expect(await headerOf()).to.deep.equal([503, '7']);
    });

    it('rejects a retryAfter on other kinds, and one that is neither text nor a whole number of seconds', () => {
      const faults = [
        { kind: 'latency', latencyMs: 1, retryAfter: '5' },
        { kind: 'status', status: 429, retryAfter: 1.5 },
        { kind: 'status', status: 429, retryAfter: '' },
      ];
      expect(() => parseScenario({ ...SCENARIO_DATA, faults }, 'f.yaml')).to.throw(
        [
          'f.yaml: faults[0].retryAfter: only applies to kind status',
          'f.yaml: faults[1].retryAfter: must be an integer >= 0',
          'f.yaml: faults[2].retryAfter: must be a non-empty string',
        ].join('\n'),
      );
    });

    it('status gives a realistic default body: 429 APIGW.0308 and 500 DIS.5000', async () => {
      sim.dis.control.addFault({ kind: 'status', status: 429, times: 1 });
      sim.dis.control.addFault({ kind: 'status', status: 500, times: 1 });
      const throttled = await get(`${BASE}/streams`);
      expect([throttled.status, throttled.body]).to.deep.equal([
        429,
        {
          error_code: 'APIGW.0308',
          error_msg: 'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute',
          request_id: rid(1),
        },
      ]);
      const failed = await get(`${BASE}/streams`);
      expect([failed.status, failed.body]).to.deep.equal([
        500,
        { errorCode: 'DIS.5000', message: `System error. [fault][${rid(2)}]` },
      ]);
      expect(failed.requestId).to.equal(rid(2));
    });

    it('timeout never answers, so the client times out', async () => {
      sim.dis.control.addFault({ kind: 'timeout', times: 1 });
      const url = `${sim.dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, sim.clock.now());
      const error = await got(url, { headers, retry: { limit: 0 }, timeout: { request: 200 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(RequestError);
      expect((error as RequestError).code).to.equal('ETIMEDOUT');
      expect(sim.dis.control.requests().map((r) => [r.status, r.faults])).to.deep.equal([[0, ['timeout']]]);
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
    });

    it('close() ends requests held open by a timeout fault', async () => {
      sim.dis.control.addFault({ kind: 'timeout' });
      const url = `${sim.dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, sim.clock.now());
      const pending = got(url, { headers, retry: { limit: 0 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      while (sim.dis.control.requests().length === 0) await new Promise((resolve) => setImmediate(resolve));
      await sim.dis.close();
      expect(((await pending) as RequestError).code).to.equal('ECONNRESET');
    });

    it('reset destroys the socket: the client sees ECONNRESET', async () => {
      sim.dis.control.addFault({ kind: 'reset', match: { operation: 'list_streams' } });
      const url = `${sim.dis.url}${BASE}/streams`;
      const headers = signRequest({ method: 'GET', url: new URL(url), headers: {} }, CREDS, sim.clock.now());
      const error = await got(url, { headers, retry: { limit: 0 } }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as RequestError).code).to.equal('ECONNRESET');
      expect(sim.dis.control.requests().map((r) => [r.operation, r.status, r.faults])).to.deep.equal([
        ['list_streams', 0, ['reset']],
      ]);
    });

    it('malformed answers 200 with a non-JSON body by default, or with the given wrong-shaped body', async () => {
      sim.dis.control.addFault({ kind: 'malformed', times: 1 });
      sim.dis.control.addFault({ kind: 'malformed', body: { partitions: 'none' }, times: 1 });
      const broken = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([broken.status, broken.text, broken.body]).to.deep.equal([200, '{"stream_name":"', undefined]);
      const wrong = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([wrong.status, wrong.text]).to.deep.equal([200, '{"partitions":"none"}']);
    });

    it('malformed and status send the given Content-Type: a proxy’s HTML page', async () => {
      const page = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
      sim.dis.control.addFault({ kind: 'status', status: 502, body: page, contentType: 'text/html', times: 1 });
      sim.dis.control.addFault({ kind: 'malformed', body: page, contentType: 'text/html; charset=utf-8', times: 1 });
      const gateway = await get(`${BASE}/streams`);
      expect([gateway.status, gateway.headers['content-type'], gateway.text]).to.deep.equal([502, 'text/html', page]);
      const portal = await get(`${BASE}/streams`);
      expect([portal.status, portal.headers['content-type'], portal.text]).to.deep.equal([
        200,
        'text/html; charset=utf-8',
        page,
      ]);
    });

    it('records the error code of each error body sent, DIS or gateway, object or text', async () => {
      sim.dis.control.addFault({ kind: 'status', status: 429, times: 1 });
      sim.dis.control.addFault({ kind: 'status', status: 400, body: '{"errorCode":"DIS.4305"}', times: 1 });
      sim.dis.control.addFault({ kind: 'status', status: 502, body: '<html></html>', times: 1 });
      for (let i = 0; i < 3; i++) await get(`${BASE}/streams`);
      await get(`${BASE}/streams/nope`);
      expect(sim.dis.control.requests().map((r) => [r.status, r.errorCode])).to.deep.equal([
        [429, 'APIGW.0308'],
        [400, 'DIS.4305'],
        [502, undefined],
        [400, 'DIS.4301'],
      ]);
    });

    it('oversized streams exactly `bytes` bytes without a Content-Length; the client may hang up part way', async () => {
      sim.dis.control.addFault({ kind: 'oversized', bytes: 300_000, times: 1 });
      const whole = await get(`${BASE}/streams/s1/transfer-tasks/to-obs`);
      expect([
        whole.status,
        whole.text.length,
        whole.headers['content-length'],
        whole.headers['transfer-encoding'],
      ]).to.deep.equal([200, 300_000, undefined, 'chunked']);
      expect(whole.text.startsWith('{"padding":"xxx')).to.equal(true);

      sim.dis.control.addFault({ kind: 'oversized', bytes: 50_000_000, times: 1 });
      const url = new URL(`${sim.dis.url}${BASE}/streams`);
      const headers = { 'X-Project-Id': PROJECT };
      const stream = got.stream(url, {
        headers: { ...headers, ...signRequest({ method: 'GET', url, headers }, CREDS, T0) },
      });
      let received = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > 100_000) break;
      }
      expect(received).to.be.below(1_000_000);
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(sim.dis.control.requests().map((r) => [r.status, r.faults])).to.deep.equal([
        [200, ['oversized']],
        [200, ['oversized']],
        [200, []],
      ]);
    });

    it('validates bytes and contentType: bytes required for oversized, each only for its kinds', () => {
      const faults = [
        { kind: 'oversized' },
        { kind: 'oversized', bytes: 0 },
        { kind: 'status', status: 500, bytes: 10 },
        { kind: 'timeout', contentType: 'text/html' },
        { kind: 'malformed', contentType: '' },
      ];
      expect(() => parseScenario({ ...SCENARIO_DATA, faults }, 'f.yaml')).to.throw(
        [
          'f.yaml: faults[0].bytes: is required',
          'f.yaml: faults[1].bytes: must be an integer >= 1',
          'f.yaml: faults[2].bytes: only applies to kind oversized',
          'f.yaml: faults[3].contentType: only applies to kind status or malformed',
          'f.yaml: faults[4].contentType: must be a non-empty string',
        ].join('\n'),
      );
    });

    it('applies latency and then a terminal fault; clearFaults removes them all', async () => {
      sim.dis.control.addFault({ kind: 'latency', latencyMs: 40 });
      sim.dis.control.addFault({ kind: 'status', status: 503 });
      const delayed = get(`${BASE}/streams`);
      await until(() => sim.clock.sleeping === 1);
      expect(sim.clock.nextWake).to.equal(T0 + 40);
      await sim.clock.advance(40);
      expect((await delayed).status).to.equal(503);
      expect(sim.dis.control.requests()[0]?.faults).to.deep.equal(['latency', 'status']);
      sim.dis.control.clearFaults();
      // No latency left: the request answers while the clock stands still.
      expect((await get(`${BASE}/streams`)).status).to.equal(200);
      expect(sim.clock.sleeping).to.equal(0);
    });

    it('respects fromMs/untilMs against the clock', async () => {
      sim.dis.control.addFault({ kind: 'status', status: 500, fromMs: 10_000, untilMs: 20_000 });
      const statusAt = async (t: number): Promise<number> => {
        sim.clock.setTime(t);
        return (await get(`${BASE}/streams`)).status;
      };
      expect([
        await statusAt(T0 + 9_999),
        await statusAt(T0 + 10_000),
        await statusAt(T0 + 19_999),
        await statusAt(T0 + 20_000),
      ]).to.deep.equal([200, 500, 500, 200]);
    });

    it('draws probability from a seeded PRNG: the same seed gives the same pattern', async () => {
      const pattern = async (server: FakeDis): Promise<string> => {
        let out = '';
        for (let i = 0; i < 24; i += 1) out += (await get(`${BASE}/streams`, { server })).status === 500 ? 'x' : '.';
        return out;
      };
      const data = { ...SCENARIO_DATA, seed: 7, faults: [{ kind: 'status', status: 500, probability: 0.5 }] };
      const first = await pattern(await start(data));
      const second = await pattern(await start(data));
      expect(first).to.equal(second);
      expect(first).to.match(/x/).and.to.match(/\./);
      const never = await start({ ...data, faults: [{ kind: 'status', status: 500, probability: 0 }] });
      expect(await pattern(never)).to.equal('.'.repeat(24));
    });

    it('validates faults added at runtime', () => {
      expect(() => sim.dis.control.addFault({ kind: 'status', probability: 2 })).to.throw(
        'fault: status: is required\nfault: probability: must be a number from 0 to 1',
      );
    });
  });
});
