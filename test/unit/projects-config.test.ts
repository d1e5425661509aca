import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { describeConfig } from '../../src/config/describe.js';
import { ConfigError, loadConfig, loadConfigAsync, type LoadConfigOptions } from '../../src/config/load.js';
import { projectsOf, resolveProjectCredentials, resolveProjectCredentialsAsync } from '../../src/config/projects.js';
import { configErrorOf } from '../helpers/errors.js';
import { NO_AUTH } from '../helpers/exporter.js';

// The several-projects form (docs/configuration.md ("Several projects")): what a `projects` list loads as, the list
// of projects either form becomes, the credentials of each, and how --check-config shows it. The bad entries are
// fixtures of test/unit/config.test.ts (projects-*.bad.yaml).

const P1 = '0123456789abcdef0123456789abcdef';
const P2 = 'fedcba9876543210fedcba9876543210';

describe('several projects in the configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-projects-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('the projects list', () => {
    /** Loads a YAML config file of `text`, with `env`. */
    function load(text: string, env: LoadConfigOptions['env'] = {}) {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, text);
      return loadConfig({ file, env });
    }

    const TWO_PROJECTS = `
auth: { accessKey: AK-TOP, secretKey: SK-TOP }
projects:
  - projectId: ${P1}
    endpoint: https://dis.cn-north-4.myhuaweicloud.com
    region: cn-north-4
    targets: [{ stream: orders, task: "*" }]
  - projectId: ${P2}
    endpoint: https://dis.ap-southeast-1.myhuaweicloud.com
    region: ap-southeast-1
    targets: [{ stream: orders, task: orders-to-obs }]
    apps: [{ app: billing, stream: orders }, { app: "*" }]
    auth: { accessKey: AK-SECOND, secretKey: SK-SECOND, securityToken: TOKEN-SECOND }
`;

    it('becomes one project per entry, each with its own auth or else the top-level one', () => {
      const config = load(TWO_PROJECTS);
      const top = { ...config.auth };
      expect(projectsOf(config)).to.deep.equal([
        {
          projectId: P1,
          endpoint: 'https://dis.cn-north-4.myhuaweicloud.com',
          region: 'cn-north-4',
          targets: [{ stream: 'orders', task: '*' }],
          apps: [],
          auth: top,
          authKey: 'auth',
        },
        {
          projectId: P2,
          endpoint: 'https://dis.ap-southeast-1.myhuaweicloud.com',
          region: 'ap-southeast-1',
          targets: [{ stream: 'orders', task: 'orders-to-obs' }],
          apps: [
            { app: 'billing', stream: 'orders' },
            { app: '*', stream: '*' },
          ],
          auth: { ...NO_AUTH, accessKey: 'AK-SECOND', secretKey: 'SK-SECOND', securityToken: 'TOKEN-SECOND' },
          authKey: 'projects[1].auth',
        },
      ]);
      expect(resolveProjectCredentials(projectsOf(config))).to.deep.equal(
        new Map([
          [P1, { kind: 'aksk', accessKey: 'AK-TOP', secretKey: 'SK-TOP' }],
          [P2, { kind: 'aksk', accessKey: 'AK-SECOND', secretKey: 'SK-SECOND', securityToken: 'TOKEN-SECOND' }],
        ]),
      );
    });

    it('turns the single-project form into one project of dis, targets and apps', () => {
      const config = load(`dis: { projectId: ${P1}, region: eu-west-101, endpoint: "http://127.0.0.1:9" }
auth: { accessKey: AK-TOP, secretKey: SK-TOP }
targets: [{ stream: orders, task: orders-to-obs }]
apps: [{ app: billing }]
`);
      expect(config.projects).to.equal(undefined);
      expect(projectsOf(config)).to.deep.equal([
        {
          projectId: P1,
          endpoint: 'http://127.0.0.1:9',
          region: 'eu-west-101',
          targets: [{ stream: 'orders', task: 'orders-to-obs' }],
          apps: [{ app: 'billing', stream: '*' }],
          auth: { ...config.auth },
          authKey: 'auth',
        },
      ]);
    });

    it('needs no top-level auth when every project has its own, and reads each project key file again', async () => {
      const akFile = join(dir, 'ak');
      writeFileSync(akFile, ' AK-FROM-FILE\n');
      const text = `projects:
  - projectId: ${P1}
    endpoint: https://dis.cn-north-4.myhuaweicloud.com
    region: cn-north-4
    targets: [{ stream: orders, task: "*" }]
    auth: { accessKeyFile: ${akFile}, secretKey: SK-FIRST }
`;
      const projects = projectsOf(load(text));
      expect(resolveProjectCredentials(projects).get(P1)).to.deep.equal({
        kind: 'aksk',
        accessKey: 'AK-FROM-FILE',
        secretKey: 'SK-FIRST',
      });
      writeFileSync(akFile, 'AK-ROTATED');
      expect((await resolveProjectCredentialsAsync(projects)).get(P1)).to.deep.equal({
        kind: 'aksk',
        accessKey: 'AK-ROTATED',
        secretKey: 'SK-FIRST',
      });
      rmSync(akFile);
      expect(configErrorOf(() => resolveProjectCredentials(projects)).problems).to.deep.equal([
        `projects[0].auth.accessKeyFile: cannot read "${akFile}": ENOENT`,
      ]);
      const file = join(dir, 'config.yaml');
      const error = await loadConfigAsync({ file, env: {} }).then(
        () => expect.fail('expected a ConfigError'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems).to.deep.equal([
        `projects[0].auth.accessKeyFile: cannot read "${akFile}": ENOENT`,
      ]);
    });

    it("keeps the top-level auth's environment variables out of a project's own auth", () => {
      const env = { HUAWEICLOUD_SDK_AK: 'AK-ENV', HUAWEICLOUD_SDK_SK: 'SK-ENV' };
      const text = `projects:
  - projectId: ${P1}
    endpoint: https://dis.cn-north-4.myhuaweicloud.com
    region: cn-north-4
    targets: [{ stream: orders, task: "*" }]
    auth: { accessKey: AK-OWN }
  - projectId: ${P2}
    endpoint: https://dis.cn-north-4.myhuaweicloud.com
    region: cn-north-4
    targets: [{ stream: orders, task: "*" }]
`;
      expect(configErrorOf(() => load(text, env)).problems).to.deep.equal([
        'projects[0].auth.secretKey: is required (or projects[0].auth.secretKeyFile)',
      ]);
      // The project without an auth of its own takes the top-level one, environment included.
      const fixed = load(
        text.replace('auth: { accessKey: AK-OWN }', 'auth: { accessKey: AK-OWN, secretKey: SK-OWN }'),
        env,
      );
      expect([...resolveProjectCredentials(projectsOf(fixed)).values()]).to.deep.equal([
        { kind: 'aksk', accessKey: 'AK-OWN', secretKey: 'SK-OWN' },
        { kind: 'aksk', accessKey: 'AK-ENV', secretKey: 'SK-ENV' },
      ]);
    });

    it('names both forms when projects meets dis.projectId or targets from the environment', () => {
      expect(configErrorOf(() => load(TWO_PROJECTS, { DIS_TARGETS: 'orders/*' })).problems).to.deep.equal([
        'projects: cannot be used together with targets; list every project under projects, or poll one with ' +
          'dis.projectId and targets, not both',
      ]);
      expect(configErrorOf(() => load(TWO_PROJECTS, { HUAWEICLOUD_SDK_PROJECT_ID: P1 })).problems).to.deep.equal([
        'projects: cannot be used together with dis.projectId; list every project under projects, or poll one with ' +
          'dis.projectId and targets, not both',
      ]);
    });

    it('takes the list as JSON from DIS_PROJECTS, naming the variable in problems and never quoting it', () => {
      const entry = {
        projectId: P2,
        endpoint: 'https://dis.ap-southeast-1.myhuaweicloud.com',
        region: 'ap-southeast-1',
        targets: [{ stream: 'clicks', task: '*' }],
        auth: { accessKey: 'AK-JSON', secretKey: 'SK-JSON' },
      };
      const config = loadConfig({ env: { DIS_PROJECTS: JSON.stringify([entry]) } });
      expect(config.projects).to.deep.equal([{ ...entry, auth: { ...NO_AUTH, ...entry.auth } }]);
      const badRegion = JSON.stringify([{ ...entry, region: 'Singapore' }]);
      expect(configErrorOf(() => loadConfig({ env: { DIS_PROJECTS: badRegion } })).problems).to.deep.equal([
        'projects[0].region: must be a region ID like cn-north-4: lowercase letters, digits and "-" (got "Singapore") ' +
          '(set by DIS_PROJECTS)',
      ]);
      // A YAML-ish list with a secret in it: the problem says where the JSON breaks, and nothing of the text.
      const notJson = "[{projectId: p1, auth: {secretKey: 'SK-NOT-JSON'}}]";
      const problems = configErrorOf(() => loadConfig({ env: { DIS_PROJECTS: notJson } })).problems;
      expect(problems).to.deep.equal([
        'projects: must be a list of {projectId, endpoint, region, targets} mappings, as JSON in DIS_PROJECTS (got a ' +
          'string that is not JSON: object keys must be strings in double quotes at character 3) (set by DIS_PROJECTS)',
      ]);
    });
  });

  describe('describeConfig with projects', () => {
    it("shows the projects after targets, each project's secrets as [REDACTED]", () => {
      const file = join(dir, 'config.yaml');
      writeFileSync(
        file,
        `auth: { accessKey: AK-TOP, secretKey: SK-TOP }
projects:
  - projectId: ${P1}
    endpoint: https://dis.cn-north-4.myhuaweicloud.com
    region: cn-north-4
    targets: [{ stream: orders, task: "*", exclude: "-tmp$" }, { stream: clicks, task: clicks-to-dli }]
  - projectId: ${P2}
    endpoint: https://dis.ap-southeast-1.myhuaweicloud.com
    region: ap-southeast-1
    targets: [{ stream: "*" }]
    auth: { accessKey: AK-SECOND, secretKey: SK-SECOND, iam: { endpoint: "" } }
`,
      );
      const text = describeConfig(loadConfig({ file, env: {} }));
      expect(text).not.to.match(/AK-|SK-/);
      expect(text).to.include(
        [
          'targets: []',
          'projects:',
          `  - projectId: ${P1}`,
          '    endpoint: https://dis.cn-north-4.myhuaweicloud.com',
          '    region: cn-north-4',
          '    targets:',
          '      - { stream: orders, task: "*", exclude: -tmp$ }',
          '      - { stream: clicks, task: clicks-to-dli }',
          `  - projectId: ${P2}`,
          '    endpoint: https://dis.ap-southeast-1.myhuaweicloud.com',
          '    region: ap-southeast-1',
          '    targets:',
          '      - { stream: "*", task: "*" }',
          '    auth:',
          '      accessKey: "[REDACTED]"',
          '      secretKey: "[REDACTED]"',
          '      securityToken: ""',
          '      accessKeyFile: ""',
          '      secretKeyFile: ""',
          '      securityTokenFile: ""',
          '      iam:',
          '        endpoint: ""',
          '        domain: ""',
          '        username: ""',
          '        password: ""',
          '        passwordFile: ""',
          '      oidc:',
          '        endpoint: ""',
          '        idpId: ""',
          '        idTokenFile: ""',
          '      metadata:',
          '        enabled: false',
          '        endpoint: http://169.254.169.254',
          'poll:',
        ].join('\n'),
      );
    });
  });
});
