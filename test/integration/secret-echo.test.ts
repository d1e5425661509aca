import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import baseGot from 'got';
import { run, type CliIo } from '../../src/cli.js';
import { PROJECT_ID } from '../helpers/exporter.js';
import { logCapture } from '../helpers/logs.js';

// A secret written wrongly (unquoted, so that YAML reads it as an alias or a tag; with a bad escape; of the wrong
// type; in broken flow syntax...) must not come back in any message about it: not on --check-config's stdout or
// stderr, not in the `reload rejected` log line, not in the POST /-/reload answer, not in a process warning. The
// table runs the CLI in this process (run(), as main.ts does) for speed, and a few rows in a child process too.

const got = baseGot.extend({ retry: { limit: 0 }, throwHttpErrors: false });

/** One secret per sensitive key; letters and digits only, so that each can also be an alias, anchor or tag name. */
const SECRETS = {
  accessKey: 'AKsecret7f3k9Qx2Lm',
  secretKey: 'SKsecret1a2b3c4d5e',
  securityToken: 'TOKENsecret9z8y7x6w',
  password: 'PWsecret0p9o8i7u6y',
} as const;
type SecretKey = keyof typeof SECRETS;
/** A bcrypt hash (cost 4) and its password, of the web config's basic_auth_users. */
const HASH = '$2b$04$ZQvKJh400o.cEk87yiWJz.hPh7PExXxj2ZTu5pvwHvx3CYYwgS9iy';
const SCRAPE_PASSWORD = 'Scrapesecret4r5t6y7';
const ALL_SECRETS = [...Object.values(SECRETS), HASH, SCRAPE_PASSWORD];

const HEAD = `server: { host: 127.0.0.1, port: 0 }\ndis: { projectId: ${PROJECT_ID}, endpoint: "http://127.0.0.1:1" }\n`;
const TARGETS = 'targets: [{ stream: orders, task: orders-to-obs }]\n';
const IAM_SETTINGS = { endpoint: 'https://iam.example.com', domain: 'acme', username: 'dis-monitor' };

/** The settings of the section that holds `key`, all good but `key`, which the caller writes. */
function otherSettings(key: SecretKey): Record<string, string> {
  if (key === 'password') return IAM_SETTINGS;
  const aksk: Record<string, string> = { accessKey: 'AK-PLAIN', secretKey: 'SK-PLAIN' };
  delete aksk[key];
  return aksk;
}

/** A YAML config whose `key` entry is `lines` (written at the section's indentation). */
function yamlConfig(key: SecretKey, lines: readonly string[]): string {
  const indent = key === 'password' ? '    ' : '  ';
  const others = Object.entries(otherSettings(key)).map(([name, value]) => `${indent}${name}: ${value}\n`);
  const section = key === 'password' ? 'auth:\n  iam:\n' : 'auth:\n';
  return `${HEAD}${TARGETS}${section}${others.join('')}${lines.map((line) => `${indent}${line}\n`).join('')}`;
}

/** A JSON config whose `key` entry's value is the text `value`, written as is. */
function jsonConfig(key: SecretKey, value: string): string {
  const others = Object.entries(otherSettings(key)).map(([name, text]) => `"${name}": "${text}", `);
  const entry = `{${others.join('')}"${key}": ${value}}`;
  const auth = key === 'password' ? `{"iam": ${entry}}` : entry;
  return (
    `{"server": {"host": "127.0.0.1", "port": 0}, "dis": {"projectId": "${PROJECT_ID}", ` +
    `"endpoint": "http://127.0.0.1:1"}, "targets": [{"stream": "orders", "task": "orders-to-obs"}], "auth": ${auth}}\n`
  );
}

/** Ways to write a secret `s` under the key `k` wrongly in YAML: the lines of the entry. */
const YAML_MISTAKES: ReadonlyArray<[string, (k: string, s: string) => string[]]> = [
  ['unquoted after *, an alias', (k, s) => [`${k}: *${s}`]],
  ['an alias in a list', (k, s) => [`${k}: [*${s}]`]],
  ['an alias that names its own value', (k, s) => [`${k}: &${s} [*${s}]`]],
  ['an alias with a tag', (k, s) => [`${k}: !!str *${s}`]],
  ['unquoted after !, a tag', (k, s) => [`${k}: !${s}`]],
  ['after an unknown tag', (k, s) => [`${k}: !custom ${s}`]],
  ['after a YAML 1.1 tag', (k, s) => [`${k}: !!binary ${s}`]],
  ['after a tag that does not fit', (k, s) => [`${k}: !!int ${s}`]],
  ['with a bad escape', (k, s) => [`${k}: "${s}\\q${s}"`]],
  ['with a bad \\x escape', (k, s) => [`${k}: "\\x${s}"`]],
  ['with a bad \\u escape', (k, s) => [`${k}: "\\u${s}"`]],
  ['with an unclosed double quote', (k, s) => [`${k}: "${s}`]],
  ['with an unclosed single quote', (k, s) => [`${k}: '${s}`]],
  ['in an unclosed flow sequence', (k, s) => [`${k}: [${s}`]],
  ['in an unclosed flow mapping', (k, s) => [`${k}: { ${s}`]],
  ['as a list', (k, s) => [`${k}: [${s}]`]],
  ['as a mapping', (k, s) => [`${k}: { ${s}: ${s} }`]],
  ['followed by a colon', (k, s) => [`${k}: ${s}: ${s}`]],
  ['after @', (k, s) => [`${k}: @${s}`]],
  ['after `', (k, s) => [`${k}: \`${s}`]],
  ['after %', (k, s) => [`${k}: %${s}`]],
  ['on a block scalar header', (k, s) => [`${k}: |${s}`]],
  ['on a folded scalar header', (k, s) => [`${k}: >-${s}`]],
  ['as a key without a value', (_k, s) => [`${s}:`]],
  ['as a line without a key', (k, s) => [`${k}: x`, s]],
  ['as a key that is a list', (_k, s) => [`? [${s}]`, ': x']],
  ['twice', (k, s) => [`${k}: ${s}`, `${k}: ${s}`]],
  ['after a tab', (k, s) => [`\t${k}: ${s}`]],
  ['nested too deep', (k, s) => [`${k}: ${'['.repeat(101)}${s}`]],
];

/** Ways to write a secret `s` under the key `k` wrongly in JSON: the text after `"k": `. */
const JSON_MISTAKES: ReadonlyArray<[string, (k: string, s: string) => string]> = [
  ['unquoted', (_k, s) => s],
  ['in single quotes', (_k, s) => `'${s}'`],
  ['with a bad escape', (_k, s) => `"${s}\\x41${s}"`],
  ['with a bad \\u escape', (_k, s) => `"\\u${s}"`],
  ['with a raw tab', (_k, s) => `"${s}\t${s}"`],
  ['with a raw line break', (_k, s) => `"${s}\n${s}"`],
  ['unclosed', (_k, s) => `"${s}`],
  ['without a comma after it', (_k, s) => `"${s}" "${s}"`],
  ['with a comment', (_k, s) => `"${s}" /* ${s} */`],
  ['as a list', (_k, s) => `["${s}"]`],
  ['as a mapping', (_k, s) => `{"${s}": "${s}"}`],
  ['twice', (k, s) => `"${s}", "${k}": "${s}"`],
  ['with a trailing comma', (_k, s) => `"${s}",`],
  ['next to an unquoted key', (_k, s) => `"x", ${s}: "${s}"`],
  ['nested too deep', (_k, s) => `${'['.repeat(101)}"${s}"${']'.repeat(101)}`],
];

/** Ways to write a web config's basic_auth_users wrongly, with the hash or the password out of place. */
const WEB_MISTAKES: ReadonlyArray<[string, string]> = [
  ['a hash unquoted after *, an alias', `basic_auth_users:\n  prometheus: *${HASH}\n`],
  ['a hash unquoted after !, a tag', `basic_auth_users:\n  prometheus: !${HASH}\n`],
  ['a hash after an unknown tag', `basic_auth_users:\n  prometheus: !custom ${HASH}\n`],
  ['a hash with a bad escape', `basic_auth_users:\n  prometheus: "${HASH}\\q"\n`],
  ['a hash with an unclosed quote', `basic_auth_users:\n  prometheus: "${HASH}\n`],
  ['a hash in an unclosed flow mapping', `basic_auth_users: { prometheus: ${HASH}\n`],
  ['a hash as a list', `basic_auth_users:\n  prometheus: [${HASH}]\n`],
  ['a hash as a mapping', `basic_auth_users:\n  prometheus: { ${HASH}: x }\n`],
  ['a hash followed by a colon', `basic_auth_users:\n  prometheus: ${HASH}: x\n`],
  ['a hash on a block scalar header', `basic_auth_users:\n  prometheus: |${HASH}\n`],
  ['a hash as a key without a value', `basic_auth_users: { ${HASH} }\n`],
  ['a hash as a key that is a list', `basic_auth_users:\n  ? [${HASH}]\n  : x\n`],
  ['the password where the hash belongs', `basic_auth_users:\n  prometheus: ${SCRAPE_PASSWORD}\n`],
  ['"user:password" as a key', `basic_auth_users: { "prometheus:${SCRAPE_PASSWORD}": x }\n`],
  ['"user:password" as a key without a value', `basic_auth_users: { prometheus:${SCRAPE_PASSWORD} }\n`],
];

type Case = Readonly<{ name: string; file: string; text: string; web?: boolean }>;

const CASES: Case[] = [
  ...(Object.keys(SECRETS) as SecretKey[]).flatMap((key) => [
    ...YAML_MISTAKES.map(([name, lines]) => ({
      name: `auth${key === 'password' ? '.iam' : ''}.${key} ${name} (YAML)`,
      file: 'config.yaml',
      text: yamlConfig(key, lines(key, SECRETS[key])),
    })),
    ...JSON_MISTAKES.map(([name, value]) => ({
      name: `auth${key === 'password' ? '.iam' : ''}.${key} ${name} (JSON)`,
      file: 'config.json',
      text: jsonConfig(key, value(key, SECRETS[key])),
    })),
  ]),
  ...WEB_MISTAKES.map(([name, text]) => ({ name: `web config: ${name}`, file: 'web.yml', text, web: true })),
];

function expectNoSecret(where: string, text: string): void {
  for (const secret of ALL_SECRETS) {
    expect(text.includes(secret), `${where} contains ${JSON.stringify(secret)}:\n${text}`).to.equal(false);
  }
}

describe('a secret written wrongly is never echoed', function () {
  this.timeout(60_000);
  let dir: string;
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-echo-'));
    process.on('warning', onWarning);
  });
  after(() => {
    process.off('warning', onWarning);
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const GOOD = `${HEAD}${TARGETS}auth: { accessKey: AK-PLAIN, secretKey: SK-PLAIN }\n`;

  /** The arguments of --check-config for a case: its file as the config or as the web config. */
  const checkArgs = (c: Case): string[] => {
    const file = write(c.file, c.text);
    return c.web === true
      ? ['--check-config', '--config', write('good.yaml', GOOD), '--web.config.file', file]
      : ['--check-config', '--config', file];
  };

  it(`has a case for every sensitive key and every mistake (${CASES.length})`, () => {
    expect(CASES).to.have.length(4 * (YAML_MISTAKES.length + JSON_MISTAKES.length) + WEB_MISTAKES.length);
  });

  describe('--check-config (stdout and stderr), run()', () => {
    for (const c of CASES) {
      it(c.name, async () => {
        let output = '';
        const io: CliIo = {
          stdout: (text) => (output += text),
          stderr: (text) => (output += text),
          stopSignal: () => new Promise(() => {}),
          onReloadSignal: () => () => {},
        };
        // Every secret in the environment as well: none may come back from there either.
        const env = {
          HUAWEICLOUD_SDK_SECURITY_TOKEN: SECRETS.securityToken,
          DIS_IAM_PASSWORD: SECRETS.password,
        };
        const warned = warnings.length;
        expect(await run(checkArgs(c), env, io), output).to.equal(1);
        expectNoSecret('--check-config', output);
        expectNoSecret('a process warning', warnings.slice(warned).join('\n'));
      });
    }
  });

  describe('POST /-/reload (the answer and the `reload rejected` log line)', () => {
    /** An exporter started by run() on a good config file of each language, with the web config file it names. */
    type Running = { configFile: string; webFile: string; url: string; lines: Record<string, unknown>[] };
    const running = new Map<string, Running>();
    const stops: (() => void)[] = [];
    const exits: Promise<number>[] = [];
    const goodText = (file: string, webFile: string) =>
      file.endsWith('.json')
        ? JSON.stringify({
            server: { host: '127.0.0.1', port: 0 },
            web: { configFile: webFile },
            dis: { projectId: PROJECT_ID, endpoint: 'http://127.0.0.1:1' },
            auth: { accessKey: 'AK-PLAIN', secretKey: 'SK-PLAIN' },
            targets: [{ stream: 'orders', task: 'orders-to-obs' }],
          })
        : `${GOOD}web: { configFile: "${webFile}" }\n`;

    before(async () => {
      for (const name of ['config.yaml', 'config.json']) {
        const configFile = join(dir, `running-${name}`);
        const webFile = write(`running-web-${name}.yml`, '');
        write(`running-${name}`, goodText(configFile, webFile));
        const { logger, lines } = logCapture('trace');
        let url: string | undefined;
        const io: CliIo = {
          stdout: () => {},
          stderr: () => {},
          stopSignal: () => new Promise((resolve) => stops.push(() => resolve('SIGTERM'))),
          onReloadSignal: () => () => {},
          logger,
          onListening: (listening) => (url = listening),
        };
        exits.push(run(['--config', configFile], {}, io));
        for (let i = 0; i < 1000 && url === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(url).to.be.a('string');
        running.set(name, { configFile, webFile, url: url!, lines });
      }
    });
    after(async () => {
      for (const stop of stops) stop();
      expect(await Promise.all(exits)).to.deep.equal([0, 0]);
    });

    for (const c of CASES) {
      it(c.name, async () => {
        const { configFile, webFile, url, lines } = running.get(c.web === true ? 'config.yaml' : c.file)!;
        writeFileSync(configFile, goodText(configFile, webFile));
        writeFileSync(c.web === true ? webFile : configFile, c.text);
        const rejected = () =>
          lines.filter((line) => line.msg === 'reload rejected; the running configuration is kept');
        const before = rejected().length;
        const warned = warnings.length;
        const response = await got.post(`${url}/-/reload`);
        expectNoSecret('a process warning', warnings.slice(warned).join('\n'));
        expect(response.statusCode, response.body).to.equal(500);
        expectNoSecret('the POST /-/reload answer', response.body);
        expect(rejected()).to.have.length(before + 1);
        expectNoSecret('the reload rejected line', JSON.stringify(rejected().at(-1)));
      });
    }
  });

  describe('--check-config in a child process (process warnings and uncaught errors included)', () => {
    const childCases = [
      CASES.find((c) => c.name === 'auth.secretKey unquoted after *, an alias (YAML)'),
      CASES.find((c) => c.name === 'auth.accessKey as a key that is a list (YAML)'),
      CASES.find((c) => c.name === 'auth.iam.password unquoted (JSON)'),
      CASES.find((c) => c.name === 'web config: a hash unquoted after *, an alias'),
    ];
    for (const c of childCases) {
      it(c!.name, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...checkArgs(c!)], {
          env: { PATH: process.env.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk) => (output += String(chunk)));
        child.stderr.on('data', (chunk) => (output += String(chunk)));
        const code = await new Promise((resolve) => child.on('close', resolve));
        expect(code, output).to.equal(1);
        expectNoSecret('--check-config', output);
      });
    }
  });
});
