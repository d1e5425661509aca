import { expect } from 'chai';
import { parseAppList } from '../../src/config/apps.js';
import { describeConfig } from '../../src/config/describe.js';
import { loadConfig } from '../../src/config/load.js';
import { projectsOf } from '../../src/config/projects.js';
import { configErrorOf } from '../helpers/errors.js';

const problemsOf = (run: () => unknown): readonly string[] => configErrorOf(run).problems;

// The `apps` setting (docs/configuration.md ("Consumer apps")) from the environment, what either form of the
// configuration makes of it, and how --check-config shows it. Its file cases are fixtures of test/unit/config.test.ts
// (apps.ok.yaml, apps.bad.yaml, projects-apps.bad.yaml).

const P1 = '0123456789abcdef0123456789abcdef';
const P2 = 'fedcba9876543210fedcba9876543210';
const ENV = { HUAWEICLOUD_SDK_PROJECT_ID: P1, HUAWEICLOUD_SDK_AK: 'AK-ENV', HUAWEICLOUD_SDK_SK: 'SK-ENV' };

describe('consumer apps in the configuration', () => {
  it('reads DIS_APPS as app/stream or app entries; a lone app stands for every stream it checkpoints', () => {
    expect(parseAppList(' billing/orders , audit,, */clicks ,* ')).to.deep.equal([
      { app: 'billing', stream: 'orders' },
      { app: 'audit' },
      { app: '*', stream: 'clicks' },
      { app: '*' },
    ]);
    const config = loadConfig({ env: { ...ENV, DIS_APPS: 'billing/orders,audit,*/clicks' } });
    expect(config.targets).to.deep.equal([]);
    expect(config.apps).to.deep.equal([
      { app: 'billing', stream: 'orders' },
      { app: 'audit', stream: '*' },
      { app: '*', stream: 'clicks' },
    ]);
    expect(projectsOf(config).map((project) => project.apps)).to.deep.equal([config.apps]);
  });

  it('names DIS_APPS in its problems', () => {
    expect(problemsOf(() => loadConfig({ env: { ...ENV, DIS_APPS: 'bill ing/orders,audit/*,audit' } }))).to.deep.equal([
      'apps[0].app: must be "*" or 1 to 200 letters, digits, "-" or "_" (got "bill ing") (set by DIS_APPS)',
      'apps[2]: duplicates apps[1] (audit/*) (set by DIS_APPS)',
    ]);
  });

  it('leaves apps out of the config, and makes every project poll none, when none are configured', () => {
    const config = loadConfig({ env: { ...ENV, DIS_TARGETS: 'orders/*' } });
    expect(Object.hasOwn(config, 'apps')).to.equal(false);
    expect(projectsOf(config).map((project) => project.apps)).to.deep.equal([[]]);
    expect(describeConfig(config)).not.to.include('apps');
    // Neither targets nor apps: nothing to poll.
    expect(problemsOf(() => loadConfig({ env: ENV }))).to.deep.equal(['targets: at least one target is required']);
  });

  it('lets a project of projects poll apps alone, and keeps apps of the top level out of that form', () => {
    const entry = (projectId: string, extra: object) => ({
      projectId,
      endpoint: 'https://dis.cn-north-4.myhuaweicloud.com',
      region: 'cn-north-4',
      ...extra,
    });
    const projects = [
      entry(P1, { apps: [{ app: 'billing' }] }),
      entry(P2, { targets: [{ stream: 'orders', task: '*' }] }),
    ];
    const config = loadConfig({
      env: { ...ENV, HUAWEICLOUD_SDK_PROJECT_ID: '', DIS_PROJECTS: JSON.stringify(projects) },
    });
    expect(projectsOf(config).map(({ projectId, targets, apps }) => ({ projectId, targets, apps }))).to.deep.equal([
      { projectId: P1, targets: [], apps: [{ app: 'billing', stream: '*' }] },
      { projectId: P2, targets: [{ stream: 'orders', task: '*' }], apps: [] },
    ]);
    const both = { ...ENV, HUAWEICLOUD_SDK_PROJECT_ID: '', DIS_PROJECTS: JSON.stringify(projects), DIS_APPS: 'x' };
    expect(problemsOf(() => loadConfig({ env: both }))).to.deep.equal([
      'projects: cannot be used together with apps; list every project under projects, or poll one with ' +
        'dis.projectId and targets, not both (set by DIS_PROJECTS)',
    ]);
  });

  it('shows the apps after the targets in --check-config, one mapping per line', () => {
    const config = loadConfig({ env: { ...ENV, DIS_TARGETS: 'orders/*', DIS_APPS: 'billing/orders,*' } });
    expect(describeConfig(config)).to.include(
      [
        'targets:',
        '  - { stream: orders, task: "*" }',
        'apps:',
        '  - { app: billing, stream: orders }',
        '  - { app: "*", stream: "*" }',
        'poll:',
      ].join('\n'),
    );
  });
});
