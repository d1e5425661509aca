import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { resolveCredentials, resolveCredentialsAsync } from '../../src/config/credentials.js';
import { describeConfig } from '../../src/config/describe.js';
import { ConfigError, loadConfig, loadConfigAsync, type LoadConfigOptions } from '../../src/config/load.js';
import { createConvictConfig, schemaLeaves } from '../../src/config/schema.js';
import { parseTargetList } from '../../src/config/targets.js';
import type { Config } from '../../src/config/types.js';
import { configErrorOf } from '../helpers/errors.js';
import { NO_AUTH, NO_IAM, NO_PROXY } from '../helpers/exporter.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

function fixture(name: string): string {
  return join(FIXTURES, name);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

async function rejectionOf(promise: Promise<unknown>): Promise<ConfigError> {
  return promise.then(
    () => expect.fail('expected a ConfigError'),
    (error: unknown) => {
      if (error instanceof ConfigError) return error;
      throw error;
    },
  );
}

function flattenKeys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => flattenKeys(child, prefix === '' ? key : `${prefix}.${key}`));
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

const MINIMAL: Config = {
  server: { host: '0.0.0.0', port: 9873, maxRequests: 40 },
  web: { configFile: '' },
  log: { level: 'info', format: 'json' },
  dis: {
    endpoint: 'https://dis.cn-north-4.myhuaweicloud.com',
    region: 'cn-north-4',
    projectId: '0123456789abcdef0123456789abcdef',
    proxy: '',
  },
  auth: {
    ...NO_AUTH,
    accessKey: 'AK-FIXTURE-0001',
    secretKey: 'SK-FIXTURE-0001',
  },
  proxy: NO_PROXY,
  targets: [{ stream: 'orders', task: 'orders-to-obs' }],
  poll: {
    intervalMs: 60_000,
    timeoutMs: 10_000,
    concurrency: 8,
    retries: 2,
    staleAfterMs: 300_000,
    maxRequestsPerSecond: 20,
  },
  discovery: { intervalMs: 300_000 },
  lag: { records: true },
  shard: { index: 0, total: 1, fromHostname: false },
  metrics: { stateSets: 'all' },
};

// Every fixture loads as if on the StatefulSet pod dis-exporter-2; only shard.fromHostname asks for it.
const FIXTURE_HOSTNAME = 'dis-exporter-2';

const FIXTURE_SECRETS = ['AK-FIXTURE-0001', 'SK-FIXTURE-0001', 'TOKEN-FIXTURE-0001'];

describe('loadConfig', () => {
  describe('fixtures that load (*.ok.yaml|json = *.ok.expected.json)', () => {
    const files = readdirSync(FIXTURES).filter((name) => /\.ok\.(ya?ml|json)$/.test(name));
    it('has fixtures', () => expect(files).to.have.length.of.at.least(5));
    for (const name of files) {
      it(name, () => {
        const config = loadConfig({ file: fixture(name), env: {}, hostname: FIXTURE_HOSTNAME });
        expect(config).to.deep.equal(readJson(fixture(name.replace(/\.(ya?ml|json)$/, '.expected.json'))));
        expect(isDeepFrozen(config)).to.equal(true);
      });
    }
  });

  describe('fixtures that fail (*.bad.yaml|json = *.bad.expected.txt, <file> standing for the path)', () => {
    const files = readdirSync(FIXTURES).filter((name) => /\.bad\.(ya?ml|json)$/.test(name));
    it('has fixtures', () => expect(files).to.have.length.of.at.least(20));
    for (const name of files) {
      it(name, () => {
        const expected = readFileSync(fixture(name.replace(/\.(ya?ml|json)$/, '.expected.txt')), 'utf8')
          .trimEnd()
          .replaceAll('<file>', fixture(name));
        const error = configErrorOf(() => loadConfig({ file: fixture(name), env: {}, hostname: FIXTURE_HOSTNAME }));
        expect(error.message).to.equal(expected);
        expect(error.problems).to.deep.equal(expected.split('\n'));
        for (const secret of FIXTURE_SECRETS) expect(error.message).not.to.include(secret);
        expect(error.message).not.to.include('hunter2');
        expect(error.message).not.to.match(/\bat .*:\d+:\d+\)/);
      });
    }
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'dis-exporter-config-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reports a missing file with its errno code', () => {
      const file = join(dir, 'missing.yaml');
      expect(configErrorOf(() => loadConfig({ file, env: {} })).problems).to.deep.equal([
        `${file}: cannot read: ENOENT`,
      ]);
    });

    it('reports a directory as not a regular file', () => {
      expect(configErrorOf(() => loadConfig({ file: dir, env: {} })).problems).to.deep.equal([
        `${dir}: cannot read: not a regular file (a directory)`,
      ]);
    });

    it('reads a config file of up to 1 MiB, and refuses a larger one before parsing it', () => {
      const file = join(dir, 'padded.yaml');
      const minimal = readFileSync(fixture('minimal.ok.yaml'), 'utf8');
      const padded = (bytes: number) => `${minimal}#${'x'.repeat(bytes - minimal.length - 2)}\n`;
      writeFileSync(file, padded(1024 * 1024));
      expect(loadConfig({ file, env: {} })).to.deep.equal(MINIMAL);
      writeFileSync(file, padded(1024 * 1024 + 1));
      expect(configErrorOf(() => loadConfig({ file, env: {} })).problems).to.deep.equal([
        `${file}: cannot read: file is larger than 1048576 bytes`,
      ]);
    });

    it('loadConfigAsync (a reload) gives what loadConfig gives, files that are not regular included', async () => {
      const fifo = join(dir, 'fifo.yaml');
      execFileSync('mkfifo', [fifo]);
      const keyFile = join(dir, 'sk');
      writeFileSync(keyFile, 'x'.repeat(4097));
      const cases: LoadConfigOptions[] = [
        { file: fixture('full.ok.yaml'), env: {} },
        { file: fixture('multiple-problems.bad.yaml'), env: {} },
        { file: fixture('json-duplicate-key.bad.json'), env: {} },
        { file: fixture('minimal.ok.yaml'), env: { HUAWEICLOUD_SDK_SK_FILE: keyFile, HUAWEICLOUD_SDK_AK_FILE: fifo } },
        { file: fifo, env: {} },
        { file: dir, env: {} },
      ];
      const outcome = (load: () => unknown) => {
        try {
          return load();
        } catch (error) {
          if (error instanceof ConfigError) return error.problems;
          throw error;
        }
      };
      for (const options of cases) {
        let asyncOutcome: unknown;
        try {
          asyncOutcome = await loadConfigAsync(options);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          asyncOutcome = error.problems;
        }
        expect(asyncOutcome).to.deep.equal(outcome(() => loadConfig(options)));
      }
      expect(outcome(() => loadConfig(cases[3]!))).to.deep.equal([
        `auth.accessKeyFile: cannot read "${fifo}": not a regular file (a FIFO) (set by HUAWEICLOUD_SDK_AK_FILE)`,
        `auth.secretKeyFile: cannot read "${keyFile}": file is larger than 4096 bytes (set by HUAWEICLOUD_SDK_SK_FILE)`,
      ]);
    });

    it('reads a file of any other extension as YAML, and so also JSON', () => {
      const yamlFile = join(dir, 'exporter.conf');
      writeFileSync(yamlFile, readFileSync(fixture('minimal.ok.yaml')));
      expect(loadConfig({ file: yamlFile, env: {} })).to.deep.equal(MINIMAL);
      const jsonFile = join(dir, 'exporter');
      // The sections whose settings keep their file names; `proxy` is resolved, not read.
      const { proxy: _resolved, ...fileSections } = MINIMAL;
      writeFileSync(
        jsonFile,
        JSON.stringify({ ...fileSections, poll: undefined, discovery: undefined, lag: undefined }),
      );
      expect(loadConfig({ file: jsonFile, env: {} })).to.deep.equal(MINIMAL);
    });

    it('uses only defaults and the environment without a file', () => {
      const config = loadConfig({
        env: {
          HUAWEICLOUD_SDK_PROJECT_ID: '0123456789abcdef0123456789abcdef',
          HUAWEICLOUD_SDK_AK: 'AK-FIXTURE-0001',
          HUAWEICLOUD_SDK_SK: 'SK-FIXTURE-0001',
          DIS_TARGETS: 'orders/orders-to-obs',
        },
      });
      expect(config).to.deep.equal(MINIMAL);
    });
  });

  describe('environment variables (they win over the file, which wins over defaults)', () => {
    const creds = {
      HUAWEICLOUD_SDK_PROJECT_ID: '0123456789abcdef0123456789abcdef',
      HUAWEICLOUD_SDK_AK: 'AK-FIXTURE-0001',
      HUAWEICLOUD_SDK_SK: 'SK-FIXTURE-0001',
    };
    const ok: ReadonlyArray<{
      name: string;
      file?: string;
      env: Record<string, string | undefined>;
      hostname?: string;
      expected: Config;
    }> = [
      {
        name: 'DIS_TARGETS is split on "," and "/", spaces and empty entries ignored',
        env: { ...creds, DIS_TARGETS: ' orders/orders-to-obs , clicks/clicks-to-dli,' },
        expected: {
          ...MINIMAL,
          targets: [
            { stream: 'orders', task: 'orders-to-obs' },
            { stream: 'clicks', task: 'clicks-to-dli' },
          ],
        },
      },
      {
        name: 'DIS_TARGETS takes "stream/*" for every task of a stream and "*" alone for every stream',
        env: { ...creds, DIS_TARGETS: 'orders/orders-to-obs, clicks/*, *' },
        expected: {
          ...MINIMAL,
          targets: [
            { stream: 'orders', task: 'orders-to-obs' },
            { stream: 'clicks', task: '*' },
            { stream: '*', task: '*' },
          ],
        },
      },
      {
        name: 'DIS_TARGETS takes "*/*" as "*"',
        env: { ...creds, DIS_TARGETS: '*/*' },
        expected: { ...MINIMAL, targets: [{ stream: '*', task: '*' }] },
      },
      {
        name: 'DIS_TARGETS replaces the list of the file',
        file: 'full.ok.yaml',
        env: { DIS_TARGETS: 'clicks/clicks-to-dli' },
        expected: {
          ...(readJson(fixture('full.ok.expected.json')) as Config),
          targets: [{ stream: 'clicks', task: 'clicks-to-dli' }],
        },
      },
      {
        name: 'HUAWEICLOUD_SDK_AK, _SK and _SECURITY_TOKEN and DIS_POLL_INTERVAL win over the file',
        file: 'full.ok.yaml',
        env: {
          HUAWEICLOUD_SDK_AK: 'AK-ENV',
          HUAWEICLOUD_SDK_SK: 'SK-ENV',
          HUAWEICLOUD_SDK_SECURITY_TOKEN: 'TOKEN-ENV',
          DIS_POLL_INTERVAL: '5m',
        },
        expected: {
          ...(readJson(fixture('full.ok.expected.json')) as Config),
          auth: {
            ...NO_AUTH,
            accessKey: 'AK-ENV',
            secretKey: 'SK-ENV',
            securityToken: 'TOKEN-ENV',
          },
          poll: {
            intervalMs: 300_000,
            timeoutMs: 2500,
            concurrency: 256,
            retries: 0,
            staleAfterMs: 0,
            maxRequestsPerSecond: 2.5,
          },
        },
      },
      {
        name: 'every other variable',
        file: 'minimal.ok.yaml',
        env: {
          DIS_EXPORTER_HOST: '::',
          DIS_EXPORTER_PORT: '9200',
          DIS_EXPORTER_MAX_REQUESTS: '0',
          DIS_EXPORTER_WEB_CONFIG_FILE: '/etc/dis-exporter/web.yml',
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'pretty',
          DIS_ENDPOINT: 'http://127.0.0.1:18080/',
          HUAWEICLOUD_SDK_REGION: 'eu-west-101',
          HUAWEICLOUD_SDK_PROJECT_ID: 'fedcba9876543210fedcba9876543210',
          DIS_POLL_TIMEOUT: '3s',
          DIS_POLL_CONCURRENCY: '4',
          DIS_POLL_RETRIES: '5',
          DIS_POLL_STALE_AFTER: '15m',
          DIS_POLL_MAX_REQUESTS_PER_SECOND: '0.5',
        },
        expected: {
          server: { host: '::', port: 9200, maxRequests: 0 },
          web: { configFile: '/etc/dis-exporter/web.yml' },
          log: { level: 'warn', format: 'pretty' },
          dis: {
            endpoint: 'http://127.0.0.1:18080',
            region: 'eu-west-101',
            projectId: 'fedcba9876543210fedcba9876543210',
            proxy: '',
          },
          auth: MINIMAL.auth,
          proxy: NO_PROXY,
          targets: MINIMAL.targets,
          poll: {
            intervalMs: 60_000,
            timeoutMs: 3000,
            concurrency: 4,
            retries: 5,
            staleAfterMs: 900_000,
            maxRequestsPerSecond: 0.5,
          },
          discovery: MINIMAL.discovery,
          lag: MINIMAL.lag,
          shard: MINIMAL.shard,
          metrics: MINIMAL.metrics,
        },
      },
      {
        name: 'DIS_DISCOVERY_INTERVAL, DIS_LAG_RECORDS, DIS_LAG_STALL_AFTER, DIS_SHARD_INDEX and DIS_SHARD_TOTAL',
        file: 'minimal.ok.yaml',
        env: {
          DIS_DISCOVERY_INTERVAL: '1m',
          DIS_LAG_RECORDS: 'false',
          DIS_LAG_STALL_AFTER: '15m',
          DIS_SHARD_INDEX: '2',
          DIS_SHARD_TOTAL: '3',
        },
        expected: {
          ...MINIMAL,
          discovery: { intervalMs: 60_000 },
          lag: { records: false, stallAfterMs: 900_000 },
          shard: { index: 2, total: 3, fromHostname: false },
        },
      },
      {
        name: 'they win over the file; booleans in any case',
        file: 'full.ok.yaml',
        env: { DIS_LAG_RECORDS: 'TRUE', DIS_LAG_STALL_AFTER: '30s', DIS_SHARD_INDEX: '0', DIS_SHARD_TOTAL: '2' },
        expected: {
          ...(readJson(fixture('full.ok.expected.json')) as Config),
          lag: { records: true, stallAfterMs: 30_000 },
          shard: { index: 0, total: 2, fromHostname: false },
        },
      },
      {
        name: 'DIS_SHARD_FROM_HOSTNAME=true takes the index from the host name',
        file: 'minimal.ok.yaml',
        env: { DIS_SHARD_FROM_HOSTNAME: 'true', DIS_SHARD_TOTAL: '5' },
        hostname: 'dis-exporter-4',
        expected: { ...MINIMAL, shard: { index: 4, total: 5, fromHostname: true } },
      },
      {
        name: 'DIS_METRICS_STATE_SETS',
        file: 'minimal.ok.yaml',
        env: { DIS_METRICS_STATE_SETS: 'current' },
        expected: { ...MINIMAL, metrics: { stateSets: 'current' } },
      },
      {
        name: 'DIS_METRICS_STATE_SETS wins over the file',
        file: 'full.ok.yaml',
        env: { DIS_METRICS_STATE_SETS: 'all' },
        expected: { ...(readJson(fixture('full.ok.expected.json')) as Config), metrics: { stateSets: 'all' } },
      },
      {
        name: 'HOSTNAME wins over the host name of the system',
        file: 'minimal.ok.yaml',
        env: { DIS_SHARD_FROM_HOSTNAME: 'true', DIS_SHARD_TOTAL: '12', HOSTNAME: 'exporter-prod-11' },
        hostname: 'dis-exporter-4',
        expected: { ...MINIMAL, shard: { index: 11, total: 12, fromHostname: true } },
      },
      {
        name: 'the host name is not looked at without shard.fromHostname',
        file: 'minimal.ok.yaml',
        env: { HOSTNAME: 'web' },
        hostname: 'web',
        expected: MINIMAL,
      },
      {
        name: 'an empty or undefined variable counts as unset',
        file: 'full.ok.yaml',
        env: { DIS_EXPORTER_PORT: '', DIS_TARGETS: '', HUAWEICLOUD_SDK_AK: undefined },
        expected: readJson(fixture('full.ok.expected.json')) as Config,
      },
    ];
    for (const { name, file, env, hostname, expected } of ok) {
      it(name, () => {
        const config = loadConfig({ ...(file === undefined ? {} : { file: fixture(file) }), env, hostname });
        expect(config).to.deep.equal(expected);
      });
    }

    const bad: ReadonlyArray<{ name: string; env: Record<string, string>; hostname?: string; problems: string[] }> = [
      {
        name: 'a bad value names the key and the variable',
        env: { ...creds, DIS_TARGETS: 'orders/orders-to-obs', DIS_EXPORTER_PORT: 'http', DIS_POLL_INTERVAL: 'fast' },
        problems: [
          'server.port: must be a port number from 0 to 65535 (got "http") (set by DIS_EXPORTER_PORT)',
          'poll.interval: must be a duration like 30s, 5m or 1h (got "fast") (set by DIS_POLL_INTERVAL)',
        ],
      },
      {
        name: 'a duration variable without a unit shows the fix; 0 needs none',
        env: { ...creds, DIS_TARGETS: 'orders/orders-to-obs', DIS_POLL_INTERVAL: '30', DIS_POLL_STALE_AFTER: '0' },
        problems: ['poll.interval: 30 has no unit: write 30s or 30ms (set by DIS_POLL_INTERVAL)'],
      },
      {
        name: 'DIS_TARGETS entries without a task, with a task for every stream, with bad names or twice',
        env: { ...creds, DIS_TARGETS: 'orders,*/orders-to-obs,a b/c,x/y/z,*,*/*,clicks/*,clicks/*' },
        problems: [
          'targets[0].task: is required (set by DIS_TARGETS)',
          'targets[1].task: must be "*" or left out when stream is "*" (got "orders-to-obs") (set by DIS_TARGETS)',
          'targets[2].stream: must be 1 to 64 letters, digits, "-" or "_" (got "a b") (set by DIS_TARGETS)',
          'targets[3].task: must be 1 to 64 letters, digits, "-" or "_" (got "y/z") (set by DIS_TARGETS)',
          'targets[5]: duplicates targets[4] (*/*) (set by DIS_TARGETS)',
          'targets[7]: duplicates targets[6] (clicks/*) (set by DIS_TARGETS)',
        ],
      },
      {
        name: 'bad DIS_DISCOVERY_INTERVAL, DIS_LAG_RECORDS and DIS_LAG_STALL_AFTER',
        env: {
          ...creds,
          DIS_TARGETS: 'orders/*',
          DIS_DISCOVERY_INTERVAL: '500ms',
          DIS_LAG_RECORDS: 'no',
          DIS_LAG_STALL_AFTER: 'later',
        },
        problems: [
          'discovery.interval: must be at least 1s (got 500ms) (set by DIS_DISCOVERY_INTERVAL)',
          'lag.records: must be true or false (got "no") (set by DIS_LAG_RECORDS)',
          'lag.stallAfter: must be a duration like 30s, 5m or 1h, or "" for the default (got "later") (set by DIS_LAG_STALL_AFTER)',
        ],
      },
      {
        name: 'bad DIS_SHARD_INDEX, DIS_SHARD_TOTAL and DIS_SHARD_FROM_HOSTNAME',
        env: { ...creds, DIS_TARGETS: '*', DIS_SHARD_INDEX: 'one', DIS_SHARD_TOTAL: '0', DIS_SHARD_FROM_HOSTNAME: '1' },
        problems: [
          'shard.index: must be an integer from 0 to 999 (got "one") (set by DIS_SHARD_INDEX)',
          'shard.total: must be an integer from 1 to 1000 (got 0) (set by DIS_SHARD_TOTAL)',
          'shard.fromHostname: must be true or false (got "1") (set by DIS_SHARD_FROM_HOSTNAME)',
        ],
      },
      {
        name: 'DIS_SHARD_INDEX not below DIS_SHARD_TOTAL',
        env: { ...creds, DIS_TARGETS: '*', DIS_SHARD_INDEX: '3', DIS_SHARD_TOTAL: '3' },
        problems: ['shard.index: must be less than shard.total (3) (set by DIS_SHARD_INDEX)'],
      },
      {
        name: 'DIS_SHARD_FROM_HOSTNAME with a host name without -<number>',
        env: { ...creds, DIS_TARGETS: '*', DIS_SHARD_FROM_HOSTNAME: 'true', DIS_SHARD_TOTAL: '3' },
        hostname: 'web',
        problems: ['shard.fromHostname: host name "web" does not end in -<number> (set by DIS_SHARD_FROM_HOSTNAME)'],
      },
      {
        name: 'DIS_SHARD_FROM_HOSTNAME with a host name whose number is not below shard.total',
        env: { ...creds, DIS_TARGETS: '*', DIS_SHARD_FROM_HOSTNAME: 'true', HOSTNAME: 'dis-exporter-07' },
        hostname: 'dis-exporter-0',
        problems: [
          'shard.fromHostname: host name "dis-exporter-07" gives shard index 07, which must be less than shard.total (1) (set by DIS_SHARD_FROM_HOSTNAME)',
        ],
      },
      {
        name: 'DIS_SHARD_FROM_HOSTNAME together with a non-zero DIS_SHARD_INDEX',
        env: {
          ...creds,
          DIS_TARGETS: '*',
          DIS_SHARD_FROM_HOSTNAME: 'true',
          DIS_SHARD_INDEX: '1',
          DIS_SHARD_TOTAL: '3',
        },
        hostname: 'dis-exporter-1',
        problems: ['shard.index: must be left at 0 when shard.fromHostname is true (got 1) (set by DIS_SHARD_INDEX)'],
      },
      {
        name: 'a bad DIS_METRICS_STATE_SETS',
        env: { ...creds, DIS_TARGETS: 'orders/orders-to-obs', DIS_METRICS_STATE_SETS: 'Current' },
        problems: ['metrics.stateSets: must be one of all, current (got "Current") (set by DIS_METRICS_STATE_SETS)'],
      },
      {
        name: 'DIS_TARGETS with no entry',
        env: { ...creds, DIS_TARGETS: ' , ' },
        problems: ['targets: at least one target is required (set by DIS_TARGETS)'],
      },
      {
        name: 'nothing at all',
        env: {},
        problems: [
          'dis.projectId: is required',
          'auth.accessKey: is required (or auth.accessKeyFile)',
          'auth.secretKey: is required (or auth.secretKeyFile)',
          'targets: at least one target is required',
        ],
      },
    ];
    for (const { name, env, hostname, problems } of bad) {
      it(name, () => {
        expect(configErrorOf(() => loadConfig({ env, hostname })).problems).to.deep.equal(problems);
      });
    }

    it('takes the host name of the system when neither HOSTNAME nor an injected one is given', () => {
      const env = { ...creds, DIS_TARGETS: '*', DIS_SHARD_FROM_HOSTNAME: 'true', DIS_SHARD_TOTAL: '1000' };
      const ordinal = /-(\d+)$/.exec(osHostname())?.[1];
      if (ordinal !== undefined && Number(ordinal) < 1000) {
        expect(loadConfig({ env }).shard).to.deep.equal({ index: Number(ordinal), total: 1000, fromHostname: true });
      } else {
        expect(configErrorOf(() => loadConfig({ env })).problems).to.have.length(1);
        expect(configErrorOf(() => loadConfig({ env })).problems[0]).to.include(JSON.stringify(osHostname()));
      }
    });
  });
});

describe('targets', () => {
  it('parses DIS_TARGETS entries, leaving the checks to the schema', () => {
    expect(parseTargetList(' a/b ,c/*,, * ,d, */x')).to.deep.equal([
      { stream: 'a', task: 'b' },
      { stream: 'c', task: '*' },
      { stream: '*' },
      { stream: 'd' },
      { stream: '*', task: 'x' },
    ]);
  });
});

describe('resolveCredentials and key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const inline: Config['auth'] = {
    ...NO_AUTH,
    accessKey: 'AK-INLINE',
    secretKey: 'SK-INLINE',
  };

  function keyFile(name: string, contents: string): string {
    const path = join(dir, name);
    writeFileSync(path, contents);
    return path;
  }

  it('returns inline values, without a security token when it is empty', () => {
    expect(resolveCredentials(inline)).to.deep.equal({ kind: 'aksk', accessKey: 'AK-INLINE', secretKey: 'SK-INLINE' });
  });

  it('adds the security token when set', () => {
    expect(resolveCredentials({ ...inline, securityToken: 'TOKEN' })).to.deep.equal({
      kind: 'aksk',
      accessKey: 'AK-INLINE',
      secretKey: 'SK-INLINE',
      securityToken: 'TOKEN',
    });
  });

  it('reads key files with surrounding whitespace trimmed, and they win over inline values', () => {
    const credentials = resolveCredentials({
      ...inline,
      accessKeyFile: keyFile('ak', '  AK-FILE\n'),
      secretKeyFile: keyFile('sk', '\tSK-FILE\r\n\n'),
    });
    expect(credentials).to.deep.equal({ kind: 'aksk', accessKey: 'AK-FILE', secretKey: 'SK-FILE' });
  });

  it('names each missing key', () => {
    const error = configErrorOf(() => resolveCredentials({ ...inline, accessKey: '', secretKey: '  ' }));
    expect(error.problems).to.deep.equal([
      'auth.accessKey: is required (or auth.accessKeyFile)',
      'auth.secretKey: is required (or auth.secretKeyFile)',
    ]);
  });

  it('reports an unreadable or empty file with its path and errno code, never its contents', () => {
    const missing = join(dir, 'missing');
    const empty = keyFile('empty', ' \n');
    expect(configErrorOf(() => resolveCredentials({ ...inline, accessKeyFile: missing })).problems).to.deep.equal([
      `auth.accessKeyFile: cannot read "${missing}": ENOENT`,
    ]);
    expect(configErrorOf(() => resolveCredentials({ ...inline, secretKeyFile: empty })).problems).to.deep.equal([
      `auth.secretKeyFile: cannot read "${empty}": file is empty`,
    ]);
    mkdirSync(join(dir, 'sub'));
    expect(
      configErrorOf(() => resolveCredentials({ ...inline, accessKeyFile: join(dir, 'sub') })).problems,
    ).to.deep.equal([`auth.accessKeyFile: cannot read "${join(dir, 'sub')}": not a regular file (a directory)`]);
  });

  it('reads a key file of up to 4 KiB, and refuses a larger one or one that is not a regular file', async () => {
    const largest = keyFile('largest', 'K'.repeat(4096));
    const tooLarge = keyFile('too-large', `${'K'.repeat(4096)}\n`);
    const auth = { ...inline, accessKeyFile: largest, secretKeyFile: tooLarge };
    const problems = [`auth.secretKeyFile: cannot read "${tooLarge}": file is larger than 4096 bytes`];
    expect(configErrorOf(() => resolveCredentials(auth)).problems).to.deep.equal(problems);
    expect((await rejectionOf(resolveCredentialsAsync(auth))).problems).to.deep.equal(problems);
    expect(resolveCredentials({ ...auth, secretKeyFile: largest })).to.deep.include({ secretKey: 'K'.repeat(4096) });
    const zero = { ...inline, accessKeyFile: '/dev/zero', secretKeyFile: '/dev/null' };
    const devices = [
      'auth.accessKeyFile: cannot read "/dev/zero": not a regular file (a character device)',
      'auth.secretKeyFile: cannot read "/dev/null": not a regular file (a character device)',
    ];
    expect(configErrorOf(() => resolveCredentials(zero)).problems).to.deep.equal(devices);
    expect((await rejectionOf(resolveCredentialsAsync(zero))).problems).to.deep.equal(devices);
  });

  it('is checked by loadConfig, which keeps the paths (not the contents) for a reload to re-read', () => {
    const accessKeyFile = keyFile('ak', 'AK-FILE\n');
    const secretKeyFile = keyFile('sk', 'SK-FILE\n');
    const config = loadConfig({
      file: fixture('minimal.ok.yaml'),
      env: { HUAWEICLOUD_SDK_AK_FILE: accessKeyFile, HUAWEICLOUD_SDK_SK_FILE: secretKeyFile },
    });
    expect(config.auth).to.deep.equal({ ...MINIMAL.auth, accessKeyFile, secretKeyFile });
    expect(resolveCredentials(config.auth)).to.deep.equal({ kind: 'aksk', accessKey: 'AK-FILE', secretKey: 'SK-FILE' });

    const missing = join(dir, 'missing');
    const error = configErrorOf(() =>
      loadConfig({ file: fixture('minimal.ok.yaml'), env: { HUAWEICLOUD_SDK_SK_FILE: missing } }),
    );
    expect(error.problems).to.deep.equal([
      `auth.secretKeyFile: cannot read "${missing}": ENOENT (set by HUAWEICLOUD_SDK_SK_FILE)`,
    ]);
  });
});

describe('resolveCredentials with an IAM user (auth.iam)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-iam-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const noKeys: Config['auth'] = {
    ...NO_AUTH,
    iam: {
      endpoint: 'https://iam.cn-north-4.myhuaweicloud.com',
      domain: ' acme ',
      username: 'dis-monitor',
      password: 'PASSWORD-INLINE',
      passwordFile: '',
    },
  };

  it('returns IAM password credentials, values trimmed', () => {
    expect(resolveCredentials(noKeys)).to.deep.equal({
      kind: 'iam',
      endpoint: 'https://iam.cn-north-4.myhuaweicloud.com',
      domain: 'acme',
      username: 'dis-monitor',
      password: 'PASSWORD-INLINE',
    });
  });

  it('reads the password file (trimmed) over the inline password, again on every call (a reload)', () => {
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, '  PASSWORD-FILE-1\n');
    const auth = { ...noKeys, iam: { ...noKeys.iam, passwordFile } };
    expect(resolveCredentials(auth)).to.deep.include({ kind: 'iam', password: 'PASSWORD-FILE-1' });
    writeFileSync(passwordFile, 'PASSWORD-FILE-2');
    expect(resolveCredentials(auth)).to.deep.include({ kind: 'iam', password: 'PASSWORD-FILE-2' });
  });

  it('reports an unreadable or empty password file with its path, never a password', () => {
    const missing = join(dir, 'missing');
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    for (const [file, problem] of [
      [missing, 'ENOENT'],
      [empty, 'file is empty'],
    ] as const) {
      const error = configErrorOf(() => resolveCredentials({ ...noKeys, iam: { ...noKeys.iam, passwordFile: file } }));
      expect(error.problems).to.deep.equal([`auth.iam.passwordFile: cannot read "${file}": ${problem}`]);
      expect(error.message).not.to.include('PASSWORD-INLINE');
    }
  });

  it('is in use once any auth.iam key is set, and then names each missing key', () => {
    const only = (key: keyof Config['auth']['iam'], value: string): Config['auth'] => ({
      ...noKeys,
      iam: { ...NO_IAM, [key]: value },
    });
    expect(configErrorOf(() => resolveCredentials(only('domain', 'acme'))).problems).to.deep.equal([
      'auth.iam.endpoint: is required for IAM authentication',
      'auth.iam.username: is required for IAM authentication',
      'auth.iam.password: is required for IAM authentication (or auth.iam.passwordFile)',
    ]);
    expect(configErrorOf(() => resolveCredentials(only('password', 'x'))).problems).to.deep.equal([
      'auth.iam.endpoint: is required for IAM authentication',
      'auth.iam.domain: is required for IAM authentication',
      'auth.iam.username: is required for IAM authentication',
    ]);
    // Blank values count as unset: AK/SK signing, whose keys are then missing.
    expect(configErrorOf(() => resolveCredentials(only('username', '  '))).problems).to.deep.equal([
      'auth.accessKey: is required (or auth.accessKeyFile)',
      'auth.secretKey: is required (or auth.secretKeyFile)',
    ]);
  });

  it('refuses any AK/SK setting next to auth.iam, naming both', () => {
    const error = configErrorOf(() =>
      resolveCredentials({ ...noKeys, securityToken: 'TOKEN', secretKeyFile: join(dir, 'sk') }),
    );
    expect(error.problems).to.deep.equal([
      'auth: set one way to authenticate, not 2: an AK/SK (auth.securityToken, auth.secretKeyFile) ' +
        'and an IAM user (auth.iam)',
    ]);
  });

  it('takes every auth.iam key from its environment variable, and hints at it in a problem', () => {
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'PASSWORD-FILE\n');
    const env = {
      HUAWEICLOUD_SDK_PROJECT_ID: '0123456789abcdef0123456789abcdef',
      DIS_TARGETS: 'orders/orders-to-obs',
      HUAWEICLOUD_SDK_IAM_ENDPOINT: 'http://127.0.0.1:18080',
      DIS_IAM_DOMAIN: 'acme',
      DIS_IAM_USERNAME: 'dis-monitor',
      DIS_IAM_PASSWORD: 'PASSWORD-ENV',
      DIS_IAM_PASSWORD_FILE: passwordFile,
    };
    const config = loadConfig({ env });
    expect(config.auth).to.deep.equal({
      ...noKeys,
      iam: {
        endpoint: 'http://127.0.0.1:18080',
        domain: 'acme',
        username: 'dis-monitor',
        password: 'PASSWORD-ENV',
        passwordFile,
      },
    });
    expect(resolveCredentials(config.auth)).to.deep.equal({
      kind: 'iam',
      endpoint: 'http://127.0.0.1:18080',
      domain: 'acme',
      username: 'dis-monitor',
      password: 'PASSWORD-FILE',
    });
    const missing = join(dir, 'missing');
    const error = configErrorOf(() => loadConfig({ env: { ...env, DIS_IAM_PASSWORD_FILE: missing } }));
    expect(error.problems).to.deep.equal([
      `auth.iam.passwordFile: cannot read "${missing}": ENOENT (set by DIS_IAM_PASSWORD_FILE)`,
    ]);
    expect(configErrorOf(() => loadConfig({ env: { ...env, HUAWEICLOUD_SDK_AK: 'AK' } })).problems).to.deep.equal([
      'auth: set one way to authenticate, not 2: an AK/SK (auth.accessKey) ' + 'and an IAM user (auth.iam)',
    ]);
  });
});

describe('describeConfig', () => {
  it('prints the effective config in the file shape, durations as text, secrets as [REDACTED]', () => {
    const config = loadConfig({ file: fixture('full.ok.yaml'), env: {} });
    expect(describeConfig(config)).to.equal(
      [
        'server:',
        '  host: 127.0.0.1',
        '  port: 9100',
        '  maxRequests: 8',
        'web:',
        '  configFile: /etc/dis-exporter/web.yml',
        'log:',
        '  level: debug',
        '  format: pretty',
        'dis:',
        '  endpoint: https://dis.ap-southeast-1.myhuaweicloud.com',
        '  region: ap-southeast-1',
        '  projectId: 0123456789abcdef0123456789abcdef',
        '  proxy: ""',
        'auth:',
        '  accessKey: "[REDACTED]"',
        '  secretKey: "[REDACTED]"',
        '  securityToken: "[REDACTED]"',
        '  accessKeyFile: ""',
        '  secretKeyFile: ""',
        '  securityTokenFile: ""',
        '  iam:',
        '    endpoint: ""',
        '    domain: ""',
        '    username: ""',
        '    password: ""',
        '    passwordFile: ""',
        '  oidc:',
        '    endpoint: ""',
        '    idpId: ""',
        '    idTokenFile: ""',
        '  metadata:',
        '    enabled: false',
        '    endpoint: http://169.254.169.254',
        'targets:',
        '  - { stream: orders, task: orders-to-obs }',
        '  - { stream: Clicks_2024, task: clicks-to-dli }',
        '  - { stream: orders, task: orders-to-dws }',
        '  - { stream: clicks, task: "*", exclude: -tmp$ }',
        '  - { stream: "*", task: "*", include: ^prod- }',
        'poll:',
        '  interval: 1h30m',
        '  timeout: 2s500ms',
        '  concurrency: 256',
        '  retries: 0',
        '  staleAfter: 0s',
        '  maxRequestsPerSecond: 2.5',
        'discovery:',
        '  interval: 10m',
        'lag:',
        '  records: false',
        '  stallAfter: 20m',
        'shard:',
        '  index: 1',
        '  total: 4',
        '  fromHostname: false',
        'metrics:',
        '  stateSets: current',
        '',
      ].join('\n'),
    );
  });

  it('shows the defaults of the new sections as config/defaults.yaml writes them', () => {
    const text = describeConfig(loadConfig({ file: fixture('minimal.ok.yaml'), env: {} }));
    expect(text).to.include(
      [
        'discovery:',
        '  interval: 5m',
        'lag:',
        '  records: true',
        '  stallAfter: ""',
        'shard:',
        '  index: 0',
        '  total: 1',
        '  fromHostname: false',
        'metrics:',
        '  stateSets: all',
        '',
      ].join('\n'),
    );
  });

  it('leaves shard.index at 0 with shard.fromHostname, the index taken from the host name in a comment', () => {
    const config = loadConfig({ file: fixture('shard-hostname.ok.yaml'), env: {}, hostname: 'dis-exporter-2' });
    expect(describeConfig(config)).to.include(
      ['shard:', '  index: 0 # 2, from the host name', '  total: 3', '  fromHostname: true', ''].join('\n'),
    );
  });

  it('shows the IAM settings with the password as [REDACTED]', () => {
    const text = describeConfig(loadConfig({ file: fixture('iam.ok.yaml'), env: {} }));
    expect(text).to.include(
      [
        'auth:',
        '  accessKey: ""',
        '  secretKey: ""',
        '  securityToken: ""',
        '  accessKeyFile: ""',
        '  secretKeyFile: ""',
        '  securityTokenFile: ""',
        '  iam:',
        '    endpoint: https://iam.cn-north-4.myhuaweicloud.com',
        '    domain: acme',
        '    username: dis-monitor',
        '    password: "[REDACTED]"',
        '    passwordFile: ""',
        '  oidc:',
      ].join('\n'),
    );
    expect(text).not.to.include('hunter2');
  });

  it('shows an unset secret as ""', () => {
    const text = describeConfig(loadConfig({ file: fixture('minimal.ok.yaml'), env: {} }));
    expect(text).to.include('  securityToken: ""\n');
    expect(text).to.include('  accessKey: "[REDACTED]"\n');
  });

  it('prints what loads back to the same config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-describe-'));
    try {
      const env = {
        HUAWEICLOUD_SDK_AK_FILE: join(dir, 'ak'),
        HUAWEICLOUD_SDK_SK_FILE: join(dir, 'sk'),
        HUAWEICLOUD_SDK_PROJECT_ID: 'p1',
        DIS_TARGETS: 'a/b,c/d',
        DIS_POLL_INTERVAL: '90s',
        DIS_LAG_STALL_AFTER: '2m',
        DIS_SHARD_FROM_HOSTNAME: 'true',
        DIS_SHARD_TOTAL: '3',
      };
      writeFileSync(env.HUAWEICLOUD_SDK_AK_FILE, 'AK');
      writeFileSync(env.HUAWEICLOUD_SDK_SK_FILE, 'SK');
      const config = loadConfig({ env, hostname: 'dis-exporter-1' });
      const file = join(dir, 'effective.yaml');
      writeFileSync(file, describeConfig(config));
      expect(loadConfig({ file, env: {}, hostname: 'dis-exporter-1' })).to.deep.equal(config);
      // Filters and wildcards as well, whatever their characters (the fixture's inline secrets print redacted).
      const wild = loadConfig({ file: fixture('discovery.ok.yaml'), env: {} });
      writeFileSync(file, describeConfig(wild));
      expect(loadConfig({ file, env: {} }).targets).to.deep.equal(wild.targets);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('secrets never appear in any output', () => {
  const AK = 'AK-SECRET-9f8e7d6c';
  const SK = 'SK-SECRET-1a2b3c4d';
  const TOKEN = 'TOKEN-SECRET-77aa88bb';
  const PASSWORD = 'hunter2-secret';
  const SECRETS = [AK, SK, TOKEN, PASSWORD];
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const head = `dis:\n  projectId: p1\ntargets:\n  - { stream: a, task: b }\n`;
  const cases: ReadonlyArray<{ name: string; file: string; text: string; env?: Record<string, string> }> = [
    {
      name: 'a secret under a misspelt key',
      file: 'c.yaml',
      text: `${head}auth:\n  acessKey: ${AK}\n  secretKey: ${SK}\n`,
    },
    {
      name: 'a secret of the wrong type',
      file: 'c.yaml',
      text: `${head}auth:\n  accessKey: [${AK}]\n  secretKey: { v: ${SK} }\n  securityToken: [${TOKEN}]\n`,
    },
    { name: 'a secret as a mapping', file: 'c.yaml', text: `${head}auth:\n  accessKey: { ${AK}: ${SK} }\n` },
    {
      name: 'a YAML syntax error on the secret line',
      file: 'c.yaml',
      text: `${head}auth:\n  accessKey: ${AK}: ${SK}\n`,
    },
    { name: 'a bad escape inside a secret', file: 'c.yaml', text: `${head}auth:\n  accessKey: "${AK}\\q${SK}"\n` },
    {
      name: 'an unquoted secret in JSON',
      file: 'c.json',
      text: `{"auth": {"accessKey": ${AK}, "secretKey": "${SK}"}}`,
    },
    {
      name: 'a JSON syntax error next to a secret',
      file: 'c.json',
      text: `{"auth": {"accessKey": "${AK}" "secretKey": "${SK}"}}`,
    },
    {
      name: 'credentials in the endpoint URL',
      file: 'c.yaml',
      text: `dis:\n  endpoint: https://${AK}:${PASSWORD}@dis.example.com\n`,
    },
    {
      name: 'credentials in an unparsable endpoint',
      file: 'c.yaml',
      text: `dis:\n  endpoint: "https://${AK}:${PASSWORD}@ bad host"\n`,
    },
    {
      name: 'an IAM password of the wrong type, or next to an AK/SK',
      file: 'c.yaml',
      text: `${head}auth:\n  accessKey: ${AK}\n  iam:\n    username: u\n    password: [${PASSWORD}]\n`,
    },
    {
      name: 'an IAM password with other problems',
      file: 'c.yaml',
      text: `${head}auth:\n  iam:\n    endpoint: "https://u:${PASSWORD}@iam.example.com"\n    password: ${PASSWORD}\n`,
      env: { DIS_IAM_PASSWORD: PASSWORD },
    },
    {
      name: 'secrets from the environment with other problems',
      file: 'c.yaml',
      text: `server:\n  port: x\n`,
      env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: TOKEN },
    },
  ];
  for (const { name, file, text, env } of cases) {
    it(name, () => {
      const path = join(dir, file);
      writeFileSync(path, text);
      const error = configErrorOf(() => loadConfig({ file: path, env: env ?? {} }));
      for (const secret of SECRETS) {
        expect(error.message).not.to.include(secret);
        for (const problem of error.problems) expect(problem).not.to.include(secret);
      }
    });
  }

  it('not in a key file error', () => {
    writeFileSync(join(dir, 'ak'), AK);
    const error = configErrorOf(() =>
      resolveCredentials({
        ...NO_AUTH,
        securityToken: TOKEN,
        accessKeyFile: join(dir, 'ak'),
        secretKeyFile: join(dir, 'nope'),
      }),
    );
    for (const secret of SECRETS) expect(error.message).not.to.include(secret);
  });

  it('not in describeConfig', () => {
    const config = loadConfig({
      env: {
        HUAWEICLOUD_SDK_PROJECT_ID: 'p1',
        HUAWEICLOUD_SDK_AK: AK,
        HUAWEICLOUD_SDK_SK: SK,
        HUAWEICLOUD_SDK_SECURITY_TOKEN: TOKEN,
        DIS_TARGETS: 'a/b',
      },
    });
    const text = describeConfig(config);
    for (const secret of SECRETS) expect(text).not.to.include(secret);
    expect(text.match(/\[REDACTED\]/g)).to.have.length(3);
  });
});

describe('config schema', () => {
  const leaves = schemaLeaves();

  it('gives every key a doc, a format, a default and an environment variable', () => {
    for (const { path, env, item } of leaves) {
      expect(item.doc, path).to.be.a('string').and.not.equal('');
      expect(item.format, path).to.not.equal(undefined);
      expect(item, path).to.have.property('default');
      expect(env, path).to.match(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it('uses the environment variables docs/configuration.md lists', () => {
    expect(Object.fromEntries(leaves.map(({ path, env }) => [path, env]))).to.deep.equal({
      'server.host': 'DIS_EXPORTER_HOST',
      'server.port': 'DIS_EXPORTER_PORT',
      'server.maxRequests': 'DIS_EXPORTER_MAX_REQUESTS',
      'web.configFile': 'DIS_EXPORTER_WEB_CONFIG_FILE',
      'log.level': 'LOG_LEVEL',
      'log.format': 'LOG_FORMAT',
      'dis.endpoint': 'DIS_ENDPOINT',
      'dis.region': 'HUAWEICLOUD_SDK_REGION',
      'dis.projectId': 'HUAWEICLOUD_SDK_PROJECT_ID',
      'dis.proxy': 'DIS_PROXY',
      'auth.accessKey': 'HUAWEICLOUD_SDK_AK',
      'auth.secretKey': 'HUAWEICLOUD_SDK_SK',
      'auth.securityToken': 'HUAWEICLOUD_SDK_SECURITY_TOKEN',
      'auth.accessKeyFile': 'HUAWEICLOUD_SDK_AK_FILE',
      'auth.secretKeyFile': 'HUAWEICLOUD_SDK_SK_FILE',
      'auth.securityTokenFile': 'HUAWEICLOUD_SDK_SECURITY_TOKEN_FILE',
      'auth.iam.endpoint': 'HUAWEICLOUD_SDK_IAM_ENDPOINT',
      'auth.iam.domain': 'DIS_IAM_DOMAIN',
      'auth.iam.username': 'DIS_IAM_USERNAME',
      'auth.iam.password': 'DIS_IAM_PASSWORD',
      'auth.iam.passwordFile': 'DIS_IAM_PASSWORD_FILE',
      'auth.oidc.endpoint': 'DIS_OIDC_IAM_ENDPOINT',
      'auth.oidc.idpId': 'HUAWEICLOUD_SDK_IDP_ID',
      'auth.oidc.idTokenFile': 'HUAWEICLOUD_SDK_ID_TOKEN_FILE',
      'auth.metadata.enabled': 'DIS_METADATA_ENABLED',
      'auth.metadata.endpoint': 'DIS_METADATA_ENDPOINT',
      targets: 'DIS_TARGETS',
      apps: 'DIS_APPS',
      projects: 'DIS_PROJECTS',
      'poll.interval': 'DIS_POLL_INTERVAL',
      'poll.timeout': 'DIS_POLL_TIMEOUT',
      'poll.concurrency': 'DIS_POLL_CONCURRENCY',
      'poll.retries': 'DIS_POLL_RETRIES',
      'poll.maxRequestsPerSecond': 'DIS_POLL_MAX_REQUESTS_PER_SECOND',
      'poll.staleAfter': 'DIS_POLL_STALE_AFTER',
      'discovery.interval': 'DIS_DISCOVERY_INTERVAL',
      'lag.records': 'DIS_LAG_RECORDS',
      'lag.stallAfter': 'DIS_LAG_STALL_AFTER',
      'shard.index': 'DIS_SHARD_INDEX',
      'shard.total': 'DIS_SHARD_TOTAL',
      'shard.fromHostname': 'DIS_SHARD_FROM_HOSTNAME',
      'metrics.stateSets': 'DIS_METRICS_STATE_SETS',
    });
  });

  it('marks exactly the AK, SK, security token and IAM password sensitive', () => {
    expect(leaves.filter((leaf) => leaf.sensitive).map((leaf) => leaf.path)).to.deep.equal([
      'auth.accessKey',
      'auth.secretKey',
      'auth.securityToken',
      'auth.iam.password',
    ]);
  });

  it('matches config/defaults.yaml, key for key and value for value', () => {
    const defaults: unknown = parse(readFileSync(join(CONFIG_DIR, 'defaults.yaml'), 'utf8'));
    expect(flattenKeys(defaults)).to.deep.equal(leaves.map((leaf) => leaf.path));
    const fromFile = createConvictConfig({}).load(defaults).getProperties();
    expect(fromFile).to.deep.equal(createConvictConfig({}).getProperties());
  });

  it('is covered by config/dis-exporter.example.yaml, which loads once credentials are given', () => {
    const file = join(CONFIG_DIR, 'dis-exporter.example.yaml');
    const text = readFileSync(file, 'utf8');
    expect(flattenKeys(parse(text))).to.deep.equal(leaves.map((leaf) => leaf.path));
    for (const { env } of leaves) expect(text).to.include(env);
    const config = loadConfig({ file, env: { HUAWEICLOUD_SDK_AK: 'AK', HUAWEICLOUD_SDK_SK: 'SK' } });
    expect(config.targets).to.deep.equal([
      { stream: 'orders', task: 'orders-to-obs' },
      { stream: 'clicks', task: '*' },
    ]);
    expect(text).to.include('# - { stream: "*", include: "^prod-", exclude: "-test$" }');
  });
});
