import { expect } from 'chai';
import { ConfigError } from '../../src/config/config-error.js';
import { keepRestartOnlyKeys } from '../../src/config/restart-only.js';
import type { Config } from '../../src/config/types.js';
import { Reloader, type ReloadStep } from '../../src/config/reload.js';
import { testConfig } from '../helpers/exporter.js';
import { logCapture } from '../helpers/logs.js';
import { ManualClock, flush } from '../helpers/manual-clock.js';

const NOW = Date.UTC(2024, 0, 1);

describe('keepRestartOnlyKeys', () => {
  const running = testConfig('http://127.0.0.1:1');

  it('keeps the running server and log format, names each changed one, and takes the rest, projects included', () => {
    const next: Config = {
      ...running,
      server: { host: '0.0.0.0', port: 9999, maxRequests: 40 },
      log: { level: 'debug', format: 'pretty' },
      dis: { endpoint: 'http://127.0.0.1:2', region: 'ap-southeast-1', projectId: 'other', proxy: '' },
      targets: [{ stream: 'new', task: '*' }],
      poll: { ...running.poll, intervalMs: 5_000 },
    };
    const { config, ignored } = keepRestartOnlyKeys(running, next);
    expect(ignored).to.deep.equal(['server.host', 'server.port', 'log.format']);
    expect(config).to.deep.equal({
      ...next,
      server: running.server,
      log: { level: 'debug', format: 'json' },
    });
    expect(Object.isFrozen(config) && Object.isFrozen(config.log) && Object.isFrozen(config.server)).to.equal(true);
  });

  it('ignores nothing when only reloadable settings change', () => {
    const next: Config = { ...running, dis: { ...running.dis }, metrics: { stateSets: 'current' } };
    const { config, ignored } = keepRestartOnlyKeys(running, next);
    expect(ignored).to.deep.equal([]);
    expect(config).to.deep.equal(next);
  });
});

describe('Reloader', () => {
  /** A Reloader whose `read` returns "v1", "v2", ... (or what `read` gives), with its log and outcomes. */
  function reloader(steps: ReloadStep<string>[], read?: () => string) {
    const clock = new ManualClock(NOW);
    const { logger, lines } = logCapture();
    const outcomes: [boolean, number][] = [];
    let reads = 0;
    const r = new Reloader<string>({
      read: read ?? (() => `v${++reads}`),
      steps,
      clock,
      logger,
      onOutcome: (ok, atMs) => outcomes.push([ok, atMs]),
    });
    return { r, clock, lines, outcomes };
  }

  it('reads once, applies every step in order once all have prepared from it, and reports success with the time', async () => {
    const events: string[] = [];
    const step = (name: string): ReloadStep<string> => ({
      name,
      prepare: async (next) => {
        events.push(`prepare ${name} ${next}`);
        return () => events.push(`apply ${name}`);
      },
    });
    const { r, clock, lines, outcomes } = reloader([step('config'), step('web')]);
    await clock.advance(5_000);
    expect(await r.reload()).to.deep.equal({ ok: true });
    expect(events).to.deep.equal(['prepare config v1', 'prepare web v1', 'apply config', 'apply web']);
    expect(outcomes).to.deep.equal([[true, NOW + 5_000]]);
    expect(lines).to.deep.equal([{ level: 'info', msg: 'configuration reloaded' }]);
  });

  it('applies nothing when a step refuses, and reports the problems of every step that refused, once', async () => {
    const applied: string[] = [];
    const { r, lines, outcomes } = reloader([
      { name: 'config', prepare: () => () => applied.push('config') },
      {
        name: 'credentials',
        prepare: () => {
          throw new ConfigError(['auth.secretKeyFile: cannot read "/run/sk": ENOENT', 'auth.accessKey: is required']);
        },
      },
      {
        name: 'web',
        prepare: async () => {
          throw new TypeError('boom');
        },
      },
    ]);
    const problems = ['auth.secretKeyFile: cannot read "/run/sk": ENOENT', 'auth.accessKey: is required', 'web: boom'];
    expect(await r.reload()).to.deep.equal({ ok: false, problems });
    expect(applied).to.deep.equal([]);
    expect(outcomes).to.deep.equal([[false, NOW]]);
    expect(lines).to.deep.equal([
      { level: 'error', problems, msg: 'reload rejected; the running configuration is kept' },
    ]);
  });

  it('prepares no step when the configuration cannot be read, and reports why', async () => {
    const prepared: string[] = [];
    const problems = ['config.yaml: cannot read: ENOENT'];
    const { r, lines, outcomes } = reloader([{ name: 'web', prepare: (next) => () => prepared.push(next) }], () => {
      throw new ConfigError(problems);
    });
    expect(await r.reload()).to.deep.equal({ ok: false, problems });
    expect(prepared).to.deep.equal([]);
    expect(outcomes).to.deep.equal([[false, NOW]]);
    expect(lines).to.deep.equal([
      { level: 'error', problems, msg: 'reload rejected; the running configuration is kept' },
    ]);
  });

  it('runs one reload at a time: a second waits for the first to finish', async () => {
    const events: string[] = [];
    let release: (() => void) | undefined;
    let call = 0;
    const { r } = reloader([
      {
        name: 'config',
        prepare: async (next) => {
          const n = ++call;
          events.push(`start ${n} ${next}`);
          if (n === 1) await new Promise<void>((resolve) => (release = resolve));
          events.push(`end ${n}`);
          return () => events.push(`apply ${n}`);
        },
      },
    ]);
    const first = r.reload();
    const second = r.reload();
    await flush();
    expect(events).to.deep.equal(['start 1 v1']);
    release!();
    expect(await Promise.all([first, second])).to.deep.equal([{ ok: true }, { ok: true }]);
    expect(events).to.deep.equal(['start 1 v1', 'end 1', 'apply 1', 'start 2 v2', 'end 2', 'apply 2']);
  });

  it('reports a step that fails while applying, and keeps reloading afterwards', async () => {
    let fail = true;
    const { r, lines, outcomes } = reloader([
      {
        name: 'config',
        prepare: () => () => {
          if (fail) throw new Error('not applied');
        },
      },
    ]);
    expect(await r.reload()).to.deep.equal({ ok: false, problems: ['config: not applied'] });
    fail = false;
    expect(await r.reload()).to.deep.equal({ ok: true });
    expect(outcomes.map(([ok]) => ok)).to.deep.equal([false, true]);
    expect(lines.map((line) => line.msg)).to.deep.equal([
      'reload failed while being applied',
      'configuration reloaded',
    ]);
  });
});
