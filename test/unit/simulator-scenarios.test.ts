import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  bundledScenarioPath,
  loadScenario,
  parseScenario,
  startFakeDis,
  type Scenario,
} from '../../src/simulator/fake-dis.js';
import { T0, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get } = sim;

  describe('scenarios', () => {
    it('reports every problem of a bad scenario, one line each', () => {
      const bad = {
        projectId: '',
        credentials: [{ accessKey: 'AK' }],
        extra: 1,
        streams: [
          { name: 'bad name!', partitions: [] },
          {
            name: 'ok',
            partitions: [{ startOffset: 10, initialRecords: 5, recordsPerSecond: -1, status: 'GONE' }],
            tasks: [
              {
                name: 't',
                destinationType: 'OBS',
                destination: { deliver_time_interval: 'soon' },
                partitions: { 'shardId-0000000009': {}, 'shardId-0000000000': { stalled: 'yes' } },
                colour: 'red',
              },
            ],
          },
          { name: 'ok', partitions: [{}] },
        ],
        faults: [
          { kind: 'status' },
          { kind: 'explode' },
          {
            kind: 'latency',
            latencyMs: 10,
            status: 500,
            probability: 2,
            fromMs: 100,
            untilMs: 50,
            match: { operation: 'delete' },
          },
        ],
      };
      expect(() => parseScenario(bad, 'bad.yaml')).to.throw(
        [
          'bad.yaml: extra: unknown key',
          'bad.yaml: projectId: must be a non-empty string',
          'bad.yaml: credentials[0].secretKey: is required',
          'bad.yaml: streams[0].name: must be 1-64 letters, digits, "-" or "_"',
          'bad.yaml: streams[0].partitions: must have at least one partition',
          'bad.yaml: streams[1].partitions[0].recordsPerSecond: must be a number >= 0',
          'bad.yaml: streams[1].partitions[0].status: must be one of CREATING, ACTIVE, DELETED, EXPIRED',
          'bad.yaml: streams[1].partitions[0].startOffset: must not exceed initialRecords',
          'bad.yaml: streams[1].tasks[0].colour: unknown key',
          'bad.yaml: streams[1].tasks[0].destination.deliver_time_interval: must be a positive integer (seconds)',
          'bad.yaml: streams[1].tasks[0].partitions.shardId-0000000009: is not a partition of the stream',
          'bad.yaml: streams[1].tasks[0].partitions.shardId-0000000000.stalled: must be true or false',
          'bad.yaml: streams[2].name: duplicate "ok"',
          'bad.yaml: faults[0].status: is required',
          'bad.yaml: faults[1].kind: must be one of latency, status, timeout, malformed, reset, oversized',
          'bad.yaml: faults[2].match.operation: must be one of list_streams, show_stream, list_transfer_tasks, show_transfer_task, list_apps, show_consumer_state, iam_token, oidc_token, metadata_token, metadata_securitykey',
          'bad.yaml: faults[2].status: only applies to kind status',
          'bad.yaml: faults[2].probability: must be a number from 0 to 1',
          'bad.yaml: faults[2].untilMs: must be greater than fromMs',
        ].join('\n'),
      );
    });

    it('rejects more than 5 tasks per stream and a missing partitions list', () => {
      const tasks = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, destinationType: 'OBS' }));
      expect(() =>
        parseScenario({ projectId: 'p', streams: [{ name: 's', partitions: [{}], tasks }, { name: 't' }] }),
      ).to.throw(
        'scenario: streams[0].tasks: must have at most 5 tasks (the DIS quota)\nscenario: streams[1].partitions: is required',
      );
      expect(() => parseScenario([])).to.throw('scenario: must be an object\nscenario: projectId: is required');
    });

    it('fills defaults: partition ids by index, RUNNING tasks, ids shaped like the real ones', () => {
      const scenario: Scenario = parseScenario({
        projectId: 'p',
        streams: [{ name: 's', partitions: [{}, {}], tasks: [{ name: 't', destinationType: 'OBS' }] }],
      });
      const stream = scenario.streams[0];
      expect(
        stream?.partitions.map((p) => [p.id, p.startOffset, p.initialRecords, p.recordsPerSecond, p.status]),
      ).to.deep.equal([
        ['shardId-0000000000', 0, 0, 0, 'ACTIVE'],
        ['shardId-0000000001', 0, 0, 0, 'ACTIVE'],
      ]);
      const task = stream?.tasks[0];
      expect([task?.state, task?.deliverIntervalSeconds, task?.correctSpelling]).to.deep.equal(['RUNNING', 60, false]);
      expect(task?.id).to.match(/^[A-Za-z0-9]{19}$/);
      expect(stream?.id).to.match(/^[A-Za-z0-9]{19}$/);
      expect(scenario.epochMs).to.equal(undefined);
      expect([scenario.seed, scenario.credentials, scenario.faults]).to.deep.equal([1, [], []]);
    });

    describe('files', () => {
      let dir: string;
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'dis-sim-'));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it('loads YAML and JSON alike', () => {
        const yamlPath = join(dir, 'one.yaml');
        writeFileSync(yamlPath, 'projectId: p\nstreams:\n  - name: s\n    partitions: [{ initialRecords: 5 }]\n');
        const jsonPath = join(dir, 'one.json');
        writeFileSync(
          jsonPath,
          JSON.stringify({ projectId: 'p', streams: [{ name: 's', partitions: [{ initialRecords: 5 }] }] }),
        );
        expect(loadScenario(yamlPath)).to.deep.equal(loadScenario(jsonPath));
      });

      it('names the file in read, parse and validation errors', () => {
        const missing = join(dir, 'missing.yaml');
        expect(() => loadScenario(missing)).to.throw(
          `${missing}: cannot read: ENOENT: no such file or directory, open '${missing}'`,
        );
        const broken = join(dir, 'broken.json');
        writeFileSync(broken, '{"projectId": ');
        expect(() => loadScenario(broken)).to.throw(`${broken}: cannot parse: `);
        const badYaml = join(dir, 'bad.yaml');
        writeFileSync(badYaml, 'projectId: p\nprojectId: q\n');
        expect(() => loadScenario(badYaml)).to.throw(
          `${badYaml}: cannot parse: Map keys must be unique at line 2, column 1:`,
        );
        const invalid = join(dir, 'invalid.yaml');
        writeFileSync(invalid, 'projectId: 42\n');
        expect(() => loadScenario(invalid)).to.throw(`${invalid}: projectId: must be a non-empty string`);
      });

      it('ships a valid demo scenario with the five streams, their tasks and the consumer apps', () => {
        const demo = loadScenario(bundledScenarioPath('demo.yaml'));
        expect(demo.projectId).to.equal('0123456789abcdef0123456789abcdef');
        expect(demo.credentials).to.deep.equal([
          { accessKey: 'DEMOACCESSKEY0000000', secretKey: 'demo-secret-key-not-a-real-secret' },
        ]);
        expect(
          demo.streams.map((s) => [
            s.name,
            s.partitions.length,
            s.tasks.map((t) => `${t.name}:${t.destinationType}:${t.state}`),
          ]),
        ).to.deep.equal([
          ['orders', 3, ['orders-to-obs:OBS:RUNNING']],
          ['clicks', 2, ['clicks-to-dli:DLI:RUNNING', 'clicks-to-dws:DWS:PAUSED']],
          ['payments', 1, ['payments-to-mrs:MRS:RUNNING']],
          ['sensors', 3, ['sensors-to-obs:OBS:RUNNING']],
          ['archive', 1, []],
        ]);
        expect(demo.streams.map((s) => s.status)).to.deep.equal(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'FROZEN']);
        expect(demo.apps.map((app) => [app.name, Object.keys(app.streams)])).to.deep.equal([
          ['billing-service', ['orders', 'payments']],
          ['clickstream-analytics', ['clicks']],
          ['fraud-detector', ['payments']],
          ['archive-reader', ['archive']],
        ]);
      });

      it('loads rangeOverride from YAML, null included', () => {
        const path = join(dir, 'ranges.yaml');
        writeFileSync(
          path,
          'projectId: p\nstreams:\n  - name: s\n    partitions:\n' +
            '      - { rangeOverride: null }\n      - { rangeOverride: "[5 : null]" }\n      - {}\n',
        );
        const partitions = loadScenario(path).streams[0]?.partitions ?? [];
        expect(partitions.map((p) => ('rangeOverride' in p ? p.rangeOverride : 'absent'))).to.deep.equal([
          null,
          '[5 : null]',
          'absent',
        ]);
      });

      it('runs the demo with an idle, a stalled, a falling-behind and an expired-records partition', async () => {
        const demo = loadScenario(bundledScenarioPath('demo.yaml'));
        const server = await startFakeDis({ scenario: demo, clock: sim.clock, credentials: [] });
        sim.closeAfterTest(server);
        server.control.clearFaults(); // the demo's random latency and 429s are not the point here
        const base = `/v2/${demo.projectId}/streams`;
        const demoGet = async (path: string): Promise<unknown> =>
          (await get(`${base}${path}`, { server, sign: false, headers: {} })).body;
        const progress = async (stream: string, task: string): Promise<unknown[]> => {
          const ranges = (
            (await demoGet(`/${stream}`)) as { partitions: { sequence_number_range: string | null }[] }
          ).partitions.map((p) => p.sequence_number_range);
          const details = (await demoGet(`/${stream}/transfer-tasks/${task}`)) as {
            partitions: { state: string; last_transfer_offset: number; last_transfer_timestamp: number }[];
          };
          return details.partitions.map((p, i) => [
            ranges[i],
            p.state,
            p.last_transfer_offset,
            p.last_transfer_timestamp - T0,
          ]);
        };
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 0],
          ['[272000 : 2000000]', 'RUNNING', 2_000_000, 0],
          // The dump froze 25 h ago at 114940; the retained records now start at 118600.
          ['[118600 : 205000]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        sim.clock.setTime(T0 + 60_000);
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 60_000],
          ['[272000 : 2001200]', 'RUNNING', 2_000_720, 60_000],
          ['[118600 : 205060]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        sim.clock.setTime(T0 + 120_000);
        // Idle: no lag, offset still. Falling behind: lag 480 more at each delivery (20/s in, 12/s dumped).
        expect(await progress('sensors', 'sensors-to-obs')).to.deep.equal([
          ['[0 : 250000]', 'RUNNING', 250_000, 120_000],
          ['[272000 : 2002400]', 'RUNNING', 2_001_440, 120_000],
          ['[118600 : 205120]', 'ABNORMAL', 114_940, -90_060_000],
        ]);
        // Stalled: the task says RUNNING, the offset has not moved since 5 minutes before start, records wait.
        expect(await progress('payments', 'payments-to-mrs')).to.deep.equal([
          ['[5000 : 64240]', 'RUNNING', 63_280, -360_000],
        ]);
        expect(((await progress('orders', 'orders-to-obs'))[2] as unknown[])[1]).to.equal('ABNORMAL');
        const listed = (await demoGet('')) as { stream_names: string[] };
        expect(listed.stream_names).to.deep.equal(['archive', 'clicks', 'orders', 'payments', 'sensors']);
        // The apps: keeping up, lagging further at each commit, no checkpoint, and records lost to retention.
        const consumption = async (app: string, stream: string): Promise<unknown[]> => {
          const path = `/v2/${demo.projectId}/apps/${app}/streams/${stream}?checkpoint_type=LAST_READ`;
          const body = (await get(path, { server, sign: false, headers: {} })).body as {
            partition_consuming_states: { sequence_number: string; latest_offset: number; earliest_offset: number }[];
          };
          return body.partition_consuming_states.map((p) => [p.sequence_number, p.latest_offset, p.earliest_offset]);
        };
        expect(await consumption('billing-service', 'orders')).to.deep.equal([
          ['1451436', 1451439, 120000],
          ['1433076', 1433079, 118500],
          ['1462316', 1462319, 121300],
        ]);
        expect(await consumption('clickstream-analytics', 'clicks')).to.deep.equal([
          ['8800999', 8804799, 0],
          ['8750999', 8754199, 0],
        ]);
        expect(await consumption('fraud-detector', 'payments')).to.deep.equal([['-1', 64239, 5000]]);
        expect(await consumption('archive-reader', 'archive')).to.deep.equal([['31999', 51999, 40000]]);
      });
    });
  });
});
