import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import type { App } from '../../src/app.js';
import type { RunningServer } from '../../src/http/server.js';
import { parseScenario, serviceAccountJwt, startFakeDis, type FakeDis } from '../../src/simulator/fake-dis.js';
import { SCENARIO, cyclesCompleted, scrape, seriesOf, startExporterOnFile } from '../helpers/exporter.js';
import { ManualClock } from '../helpers/manual-clock.js';

// Renewed credentials with several projects (docs/configuration.md ("Several projects", "Expiry, renewal failures and
// the alert")), over real HTTP: one project on workload identity, another on agency keys, each in a simulated region of
// its own; the credential series carry each project's ID, and go with a project's method or with the project.

const T0 = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NORTH = '0123456789abcdef0123456789abcdef';
const SOUTH = 'fedcba9876543210fedcba9876543210';
const NORTH_KEYS = { accessKey: 'NORTHACCESSKEY000000', secretKey: 'north-sk' };
const IDP = 'cce-cluster-idp';
const EXPIRY = 'dis_exporter_credentials_expiry_timestamp_seconds';
const FAILURES = 'dis_exporter_credentials_refresh_failures_total';
const TARGETS = [
  { stream: 'orders', task: 'orders-to-obs' },
  { stream: 'clicks', task: 'clicks-to-dli' },
];

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

describe('renewed credentials with several projects (real HTTP against two simulated regions)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  type Harness = Readonly<{
    clock: ManualClock;
    north: FakeDis;
    south: FakeDis;
    app: App;
    server: RunningServer;
    tokenFile: string;
    /** Rewrites the config file with these `projects`, for the next reload. */
    writeConfig: (projects: readonly unknown[]) => void;
  }>;

  /**
   * North (IAM tokens for the cluster's ID tokens, living 2 h; also north's AK/SK) and south (an agency whose keys
   * live 1 h), and the exporter on a config file of `projects`, loaded as the CLI loads it.
   */
  async function setUp(projects: (h: Omit<Harness, 'app' | 'server'>) => readonly unknown[]): Promise<Harness> {
    const clock = new ManualClock(T0);
    const start = async (scenario: Record<string, unknown>): Promise<FakeDis> => {
      const dis = await startFakeDis({ clock, scenario: parseScenario({ ...SCENARIO, epochMs: T0, ...scenario }) });
      cleanups.push(() => dis.close());
      return dis;
    };
    const north = await start({
      projectId: NORTH,
      credentials: [NORTH_KEYS],
      iam: { identityProviders: [IDP], tokenLifetimeMs: 2 * HOUR },
    });
    const south = await start({
      projectId: SOUTH,
      credentials: [],
      agency: { keyLifetimeMs: HOUR, renewBeforeMs: 10 * MINUTE, sessionTokens: 'optional' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'dis-exporter-auth-projects-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    writeFileSync(
      tokenFile,
      serviceAccountJwt({
        subject: 'system:serviceaccount:monitoring:dis-exporter',
        audience: 'dis-exporter',
        issuedAtMs: T0,
        expiresAtMs: T0 + 24 * HOUR,
      }),
    );
    const file = join(dir, 'config.json');
    const writeConfig = (list: readonly unknown[]): void =>
      writeFileSync(
        file,
        JSON.stringify({
          server: { host: '127.0.0.1', port: 0 },
          log: { level: 'fatal' },
          projects: list,
          poll: { interval: '60s', timeout: '2s', concurrency: 4, retries: 0, maxRequestsPerSecond: 0 },
        }),
      );
    writeConfig(projects({ clock, north, south, tokenFile, writeConfig }));
    const { app, server } = await startExporterOnFile(file, clock);
    cleanups.push(() => app.stop());
    await cyclesCompleted(app, 1);
    return { clock, north, south, app, server, tokenFile, writeConfig };
  }

  const northProject = (h: Pick<Harness, 'north' | 'tokenFile'>, auth?: unknown) => ({
    projectId: NORTH,
    endpoint: h.north.url,
    region: 'cn-north-4',
    targets: TARGETS,
    auth: auth ?? { oidc: { endpoint: h.north.url, idpId: IDP, idTokenFile: h.tokenFile } },
  });
  const southProject = (h: Pick<Harness, 'south'>) => ({
    projectId: SOUTH,
    endpoint: h.south.url,
    region: 'ap-southeast-1',
    targets: TARGETS,
    auth: { metadata: { enabled: true, endpoint: h.south.metadataUrl } },
  });

  /** The credential series, sorted: the order in which the two projects got theirs is concurrent. */
  const credentialSeries = async (h: Harness) => seriesOf(await scrape(h.server), EXPIRY, FAILURES).sort();

  async function reload(h: Harness, projects: readonly unknown[]): Promise<void> {
    h.writeConfig(projects);
    const answer = await got.post(`${h.server.url}/-/reload`);
    expect([answer.statusCode, answer.body]).to.deep.equal([200, 'configuration reloaded\n']);
  }

  async function nextCycle(h: Harness): Promise<void> {
    const done = h.app.store.current().cyclesCompleted;
    await h.clock.advance(MINUTE);
    await cyclesCompleted(h.app, done + 1);
  }

  it("labels each project's token or keys with its project ID and method; a failing renewal counts for its own project only", async () => {
    // North names an identity provider IAM does not know: its exchanges fail, south's keys do not.
    const h = await setUp((h) => [
      northProject(h, { oidc: { endpoint: h.north.url, idpId: 'unknown-idp', idTokenFile: h.tokenFile } }),
      southProject(h),
    ]);
    expect(await credentialSeries(h)).to.deep.equal([
      `${EXPIRY}{project_id="${SOUTH}",method="metadata"} ${(T0 + HOUR) / 1000}`,
      `${FAILURES}{project_id="${NORTH}",method="oidc"} 1`,
      `${FAILURES}{project_id="${SOUTH}",method="metadata"} 0`,
    ]);
    const up = seriesOf(await scrape(h.server), 'dis_exporter_target_up');
    expect(up.map((line) => `${line.includes(NORTH) ? 'north' : 'south'} ${line.slice(-1)}`)).to.deep.equal([
      'north 0',
      'north 0',
      'south 1',
      'south 1',
    ]);

    // Fixed by a reload: north gets its token; its failures stay counted, as the method is the same.
    await reload(h, [northProject(h), southProject(h)]);
    await nextCycle(h);
    expect(await credentialSeries(h)).to.deep.equal([
      `${EXPIRY}{project_id="${NORTH}",method="oidc"} ${(T0 + MINUTE + 2 * HOUR) / 1000}`,
      `${EXPIRY}{project_id="${SOUTH}",method="metadata"} ${(T0 + HOUR) / 1000}`,
      `${FAILURES}{project_id="${NORTH}",method="oidc"} 1`,
      `${FAILURES}{project_id="${SOUTH}",method="metadata"} 0`,
    ]);
    expect(
      h.north.control
        .requests()
        .filter((r) => r.operation === 'oidc_token')
        .map((r) => r.status),
    ).to.deep.equal([401, 201]);
  });

  it('drops the series of a project that a reload moves to a static AK/SK, and of a project it removes, at once', async () => {
    const h = await setUp((h) => [northProject(h), southProject(h)]);
    expect(await credentialSeries(h)).to.deep.equal([
      `${EXPIRY}{project_id="${NORTH}",method="oidc"} ${(T0 + 2 * HOUR) / 1000}`,
      `${EXPIRY}{project_id="${SOUTH}",method="metadata"} ${(T0 + HOUR) / 1000}`,
      `${FAILURES}{project_id="${NORTH}",method="oidc"} 0`,
      `${FAILURES}{project_id="${SOUTH}",method="metadata"} 0`,
    ]);

    await reload(h, [northProject(h, NORTH_KEYS), southProject(h)]);
    expect(await credentialSeries(h)).to.deep.equal([
      `${EXPIRY}{project_id="${SOUTH}",method="metadata"} ${(T0 + HOUR) / 1000}`,
      `${FAILURES}{project_id="${SOUTH}",method="metadata"} 0`,
    ]);
    await nextCycle(h);
    expect(h.north.control.requests().filter((r) => r.status !== 200 && r.status !== 201)).to.deep.equal([]);

    await reload(h, [northProject(h, NORTH_KEYS)]);
    expect(await credentialSeries(h)).to.deep.equal([]);
    await nextCycle(h);
    expect(await credentialSeries(h)).to.deep.equal([]);
    expect(seriesOf(await scrape(h.server), 'dis_exporter_target_up').map((line) => line.slice(-1))).to.deep.equal([
      '1',
      '1',
    ]);
  });
});
