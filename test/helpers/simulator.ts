import type { IncomingHttpHeaders } from 'node:http';
import got from 'got';
import type { AccessKeyPair } from '../../src/config/types.js';
import { signRequest } from '../../src/dis/signer.js';
import { parseScenario, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { ManualClock } from './manual-clock.js';

// The fixtures of the simulator's tests (test/unit/simulator*.test.ts): a scenario with a bit of everything, a fake
// DIS of it per test on a manual clock, and a signed GET.

/** Time zero of SCENARIO_DATA. */
export const T0 = 1_700_000_000_000;
/** The project id of SCENARIO_DATA. */
export const PROJECT = 'aaaabbbbccccddddeeeeffff00001111';
/** The AK/SK the fake DIS of SCENARIO_DATA accepts, and the one get() signs with. */
export const CREDS = { accessKey: 'TESTACCESSKEY', secretKey: 'test-secret-key' };
/** The path prefix of the project's DIS operations. */
export const BASE = `/v2/${PROJECT}`;

/** Three streams (one without tasks) and six dump tasks of every destination, state and partition behaviour. */
export const SCENARIO_DATA = {
  projectId: PROJECT,
  credentials: [CREDS],
  epochMs: T0,
  streams: [
    {
      name: 's1',
      id: 'S1ID',
      createdMsAgo: 3_600_000,
      partitions: [
        { initialRecords: 1000, recordsPerSecond: 10 },
        { startOffset: 50, initialRecords: 500, recordsPerSecond: 2.5 },
        { initialRecords: 7, status: 'EXPIRED' },
      ],
      tasks: [
        {
          name: 'to-obs',
          id: 'OBSID',
          destinationType: 'OBS',
          createdMsAgo: 600_000,
          destination: { obs_bucket_path: 'bucket', deliver_time_interval: 60 },
          partitions: { 'shardId-0000000001': { discard: 3, discardPerSecond: 0.5, behindRecords: 20 } },
        },
        {
          name: 'to-dws',
          id: 'DWSID',
          destinationType: 'DWS',
          state: 'PAUSED',
          stateSinceMsAgo: 30_000,
          createdMsAgo: 600_000,
          destination: { dws_cluster_name: 'c1', deliver_time_interval: 60 },
        },
        {
          name: 'fresh',
          id: 'FRESHID',
          destinationType: 'DLI',
          createdMsAgo: 10_000,
          destination: { dli_database_name: 'db', dli_table_name: 't' },
        },
      ],
    },
    {
      name: 'z-stream',
      id: 'ZID',
      partitions: [{ initialRecords: 100, recordsPerSecond: 1 }],
      tasks: [
        {
          name: 'to-mrs',
          id: 'MRSID',
          destinationType: 'MRS',
          destination: { mrs_cluster_name: 'm' },
          partitions: { 'shardId-0000000000': { stalled: true } },
        },
        {
          name: 'to-ct',
          id: 'CTID',
          destinationType: 'CLOUDTABLE',
          correctSpelling: true,
          destination: { cloudtable_cluster_name: 'ct' },
        },
        {
          name: 'to-dws-ok',
          id: 'DWSOKID',
          destinationType: 'DWS',
          correctSpelling: true,
          destination: { user_password: 'given' },
        },
      ],
    },
    { name: 'a-stream', id: 'AID', partitions: [{}] },
  ],
};

/** An answer of the fake DIS, its body parsed when it is JSON. */
export type Reply = {
  status: number;
  body: unknown;
  text: string;
  requestId: string | undefined;
  headers: IncomingHttpHeaders;
};

/** The X-Request-Id of the fake DIS's n-th request (from 1). */
export function rid(n: number): string {
  return n.toString(16).padStart(32, '0');
}

/** A test's fake DIS, its clock, and how it talks to them. */
export type SimulatorFixture = {
  /** The clock of the test's fake DIS: a new one at T0 for each test. */
  readonly clock: ManualClock;
  /** The fake DIS of SCENARIO_DATA, started before each test. */
  readonly dis: FakeDis;
  /** Starts another fake DIS of `data` on the test's clock; it is closed after the test. */
  start(data?: object, extra?: { credentials?: (typeof CREDS)[] }): Promise<FakeDis>;
  /** Closes `server`, a fake DIS the test started itself, after the test with the others. */
  closeAfterTest(server: FakeDis): void;
  get(path: string, options?: GetOptions): Promise<Reply>;
  /** The state of a dump task and [state, offset, timestamp, discard] of each of its partitions. */
  offsets(stream: string, task: string): Promise<unknown>;
};

/** Which fake DIS get() asks, and how it signs. */
export type GetOptions = {
  server?: FakeDis;
  /** The AK/SK to sign with, and a temporary one's security token. */
  credentials?: AccessKeyPair;
  signedAtMs?: number;
  headers?: Record<string, string>;
  sign?: boolean;
};

/**
 * Starts the fake DIS of SCENARIO_DATA on a new manual clock at T0 before each test of the calling describe, and
 * closes every fake DIS the test started after it.
 */
export function simulatorPerTest(): SimulatorFixture {
  const servers: FakeDis[] = [];
  let clock = new ManualClock(T0);
  let dis: FakeDis | undefined;

  const closeAfterTest = (server: FakeDis): void => void servers.push(server);

  async function start(data: object = SCENARIO_DATA, extra: { credentials?: (typeof CREDS)[] } = {}): Promise<FakeDis> {
    const server = await startFakeDis({ scenario: parseScenario(data), clock, ...extra });
    closeAfterTest(server);
    return server;
  }

  function current(): FakeDis {
    if (dis === undefined) throw new Error('the fake DIS starts before each test: use it inside one');
    return dis;
  }

  /** A signed GET dated `signedAtMs` (default: the fake's clock); `headers` replaces the default X-Project-Id. */
  async function get(path: string, options: GetOptions = {}): Promise<Reply> {
    const url = new URL(`${(options.server ?? current()).url}${path}`);
    const headers = options.headers ?? { 'X-Project-Id': PROJECT };
    const signed =
      options.sign === false
        ? {}
        : signRequest({ method: 'GET', url, headers }, options.credentials ?? CREDS, options.signedAtMs ?? clock.now());
    const response = await got(url, {
      headers: { ...headers, ...signed },
      throwHttpErrors: false,
      retry: { limit: 0 },
    });
    const requestId = response.headers['x-request-id'];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    return {
      status: response.statusCode,
      body,
      text: response.body,
      requestId: typeof requestId === 'string' ? requestId : undefined,
      headers: response.headers,
    };
  }

  async function offsets(stream: string, task: string): Promise<unknown> {
    const body = (await get(`${BASE}/streams/${stream}/transfer-tasks/${task}`)).body as {
      state: string;
      partitions: { state: string; last_transfer_offset: number; last_transfer_timestamp: number; discard: number }[];
    };
    return [
      body.state,
      ...body.partitions.map((p) => [p.state, p.last_transfer_offset, p.last_transfer_timestamp, p.discard]),
    ];
  }

  beforeEach(async () => {
    clock = new ManualClock(T0);
    dis = await start();
  });

  afterEach(async () => {
    dis = undefined;
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  return {
    get clock() {
      return clock;
    },
    get dis() {
      return current();
    },
    start,
    closeAfterTest,
    get,
    offsets,
  };
}
