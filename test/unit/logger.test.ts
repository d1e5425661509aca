import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe('logger', () => {
  it('writes JSON with structured fields and redacts credentials, signatures and tokens', () => {
    const out = sink();
    const logger = createLogger({ log: { level: 'info', format: 'json' } }, out.stream).child({ component: 'poller' });
    logger.warn(
      {
        stream: 's',
        secretKey: 'SK-1',
        auth: { accessKey: 'AK-1', securityToken: 'TOKEN-1', password: 'PW-1' },
        headers: { authorization: 'SDK-HMAC-SHA256 Access=AK-1, Signature=abc', 'x-security-token': 'TOKEN-2' },
      },
      'poll failed',
    );
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).to.deep.include({
      level: 'warn',
      name: 'dis-exporter',
      component: 'poller',
      stream: 's',
      msg: 'poll failed',
      secretKey: '[REDACTED]',
      auth: { accessKey: '[REDACTED]', securityToken: '[REDACTED]', password: '[REDACTED]' },
      headers: { authorization: '[REDACTED]', 'x-security-token': '[REDACTED]' },
    });
    for (const secret of ['SK-1', 'AK-1', 'TOKEN-1', 'TOKEN-2', 'PW-1', 'Signature=']) {
      expect(out.text()).not.to.include(secret);
    }
  });

  it('writes the level by name and the time as ISO 8601 UTC, first, as a log pipeline reads them', () => {
    const out = sink();
    const logger = createLogger({ log: { level: 'trace', format: 'json' } }, out.stream);
    const before = Date.now();
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      logger.child({ component: 'http' })[level]('m');
    }
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(lines.map((line) => Object.keys(line))).to.deep.equal(
      Array.from({ length: 6 }, () => ['level', 'time', 'name', 'component', 'msg']),
    );
    expect(lines.map((line) => line.level)).to.deep.equal(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    for (const { time } of lines) {
      expect(time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(String(time))).to.be.within(before, Date.now());
    }
  });

  it('writes human-readable lines with format pretty, and respects the level', () => {
    const out = sink();
    const logger = createLogger({ log: { level: 'warn', format: 'pretty' } }, out.stream);
    logger.info('hidden');
    logger.warn({ reason: 'timeout' }, 'poll failed');
    expect(out.text()).not.to.include('hidden');
    expect(out.text()).to.match(/WARN \(dis-exporter\): poll failed\n\s+reason: "timeout"\n/);
  });
});
