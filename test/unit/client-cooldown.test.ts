import { expect } from 'chai';
import type express from 'express';
import type { Credentials } from '../../src/config/types.js';
import type { createDisClient } from '../../src/dis/client.js';
import { DisCooldownError, type CooldownInfo } from '../../src/dis/cooldown.js';
import { type DisError, DisHttpError } from '../../src/dis/errors.js';
import {
  NOW,
  BODY,
  TASK_PATH,
  SYSTEM_ERROR,
  BAD_AUTH,
  BLACKLISTED,
  withCaptureServer,
  client,
  sequence,
  ok,
} from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';
import { ManualClock, until } from '../helpers/manual-clock.js';

const BLOCKED_4309 =
  'DIS blocked this IP after too many failed requests (DIS.4309); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id';

describe('DIS client cool-down', () => {
  it('stops every request for 10 minutes after DIS.4309, fails calls with ERR_DIS_COOLDOWN, and says so once', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.status(400).json(BLACKLISTED));
      const clock = new ManualClock(NOW);
      const infos: CooldownInfo[] = [];
      const { c, events } = client(server, { clock, onCooldown: (info) => infos.push(info) });
      const first = await failureOf(c.getDumpTask('my-stream', 'my_task'));
      expect(first).to.be.instanceOf(DisHttpError);
      expect(first.message).to.equal(`GET ${TASK_PATH}: HTTP 400 DIS.4309 (Too many request failures. [r1])`);
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      expect(infos.map((i) => [i.untilMs, i.error.message, i.error.code])).to.deep.equal([
        [NOW + 600_000, BLOCKED_4309, 'ERR_DIS_COOLDOWN'],
      ]);

      for (const call of [() => c.listStreams(), () => c.getStream('s'), () => c.listDumpTasks('s')]) {
        const blocked = await failureOf(call());
        expect(blocked).to.be.instanceOf(DisCooldownError);
        expect([blocked.code, blocked.reason, blocked.message]).to.deep.equal([
          'ERR_DIS_COOLDOWN',
          'auth',
          BLOCKED_4309,
        ]);
        expect(blocked.cause).to.equal(first);
        expect((blocked as DisCooldownError).untilMs).to.equal(NOW + 600_000);
      }
      await clock.advance(599_999);
      expect((await failureOf(c.getDumpTask('my-stream', 'my_task'))).code).to.equal('ERR_DIS_COOLDOWN');
      expect(server.requests).to.have.length(1);
      expect(events).to.have.length(1);
      expect(infos).to.have.length(1);

      await clock.advance(1);
      expect(c.cooldownUntilMs()).to.equal(undefined);
      expect((await failureOf(c.getDumpTask('my-stream', 'my_task'))).code).to.equal('ERR_DIS_HTTP');
      expect(server.requests).to.have.length(2);
      expect(infos.map((i) => i.untilMs)).to.deep.equal([NOW + 600_000, NOW + 1_200_000]);
    });
  });

  it('cools down after 3 auth failures in a row across calls; a success in between starts the count again', async () => {
    const unauthorized = (res: express.Response) => res.status(401).json(BAD_AUTH);
    await withCaptureServer(async (server) => {
      server.answer(sequence(unauthorized, unauthorized, ok, unauthorized, unauthorized, unauthorized, ok));
      const clock = new ManualClock(NOW);
      const infos: CooldownInfo[] = [];
      const { c } = client(server, { clock, onCooldown: (info) => infos.push(info) });
      const results: string[] = [];
      const calls = [
        () => c.listStreams(),
        () => c.getStream('s'),
        () => c.getDumpTask('my-stream', 'my_task'),
        () => c.listDumpTasks('s'),
        () => c.listStreams(),
        () => c.getDumpTask('my-stream', 'my_task'),
        () => c.getDumpTask('my-stream', 'my_task'),
      ];
      for (const call of calls) {
        results.push(
          await call().then(
            () => 'ok',
            (e: DisError) => e.code,
          ),
        );
      }
      expect(results).to.deep.equal([
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ok',
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ERR_DIS_HTTP',
        'ERR_DIS_COOLDOWN',
      ]);
      expect(server.requests).to.have.length(6);
      expect(infos.map((i) => i.error.message)).to.deep.equal([
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id',
      ]);
    });
  });

  const streaks: ReadonlyArray<{
    name: string;
    answer: (res: express.Response) => void;
    extra: Partial<Parameters<typeof createDisClient>[0]>;
    calls: number;
    message: string;
  }> = [
    {
      name: 'a bare 401 with authFailuresBeforeCooldown 1 and cooldownMs 30 s',
      answer: (res) => res.status(401).send('Unauthorized'),
      extra: { authFailuresBeforeCooldown: 1, cooldownMs: 30_000 },
      calls: 1,
      message:
        'authentication failed (HTTP 401); no requests until 2024-01-01T00:00:30.000Z; check the AK/SK and project id',
    },
    {
      name: 'APIGW.0303 twice: the fix is the clock',
      answer: (res) => res.status(401).json({ error_code: 'APIGW.0303', error_msg: 'Signature expired' }),
      extra: { authFailuresBeforeCooldown: 2 },
      calls: 2,
      message:
        'authentication failed 2 times in a row (APIGW.0303); no requests until 2024-01-01T00:10:00.000Z; sync the host clock with NTP',
    },
    {
      name: 'APIGW.0301 from a host 20 minutes ahead: the fix is the clock',
      answer: (res) => res.set('Date', 'Sun, 31 Dec 2023 23:40:00 GMT').status(401).json(BAD_AUTH),
      extra: {},
      calls: 3,
      message:
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; sync the host clock with NTP',
    },
    {
      name: 'APIGW.0301 on a 400',
      answer: (res) => res.status(400).json(BAD_AUTH),
      extra: {},
      calls: 3,
      message:
        'authentication failed 3 times in a row (APIGW.0301); no requests until 2024-01-01T00:10:00.000Z; check the AK/SK and project id',
    },
  ];
  for (const { name, answer, extra, calls, message } of streaks) {
    it(`cools down on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(answer);
        const infos: CooldownInfo[] = [];
        const { c } = client(server, { ...extra, onCooldown: (info) => infos.push(info) });
        for (let i = 0; i < calls; i++) expect((await failureOf(c.listStreams())).code).to.equal('ERR_DIS_HTTP');
        const blocked = await failureOf(c.listStreams());
        expect([blocked.code, blocked.message]).to.deep.equal(['ERR_DIS_COOLDOWN', message]);
        expect(infos.map((i) => i.error.message)).to.deep.equal([message]);
        expect(server.requests).to.have.length(calls);
      });
    });
  }

  it('never cools down with cooldownMs 0, nor counts auth failures with authFailuresBeforeCooldown 0', async () => {
    await withCaptureServer(async (server) => {
      server.answer(
        sequence(
          (res) => res.status(400).json(BLACKLISTED),
          (res) => res.status(400).json(BLACKLISTED),
          (res) => res.status(401).json(BAD_AUTH),
        ),
      );
      const first = client(server, { cooldownMs: 0 });
      const second = client(server, { authFailuresBeforeCooldown: 0 });
      for (let i = 0; i < 2; i++) await failureOf(first.c.listStreams());
      expect(first.c.cooldownUntilMs()).to.equal(undefined);
      for (let i = 0; i < 5; i++) expect((await failureOf(second.c.listStreams())).code).to.equal('ERR_DIS_HTTP');
      expect(second.c.cooldownUntilMs()).to.equal(undefined);
      expect(server.requests).to.have.length(7);
    });
  });

  it('does not send a retry that was waiting when another call started a cool-down', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) =>
        req.originalUrl.endsWith('/a') ? res.status(503).json(SYSTEM_ERROR) : res.status(400).json(BLACKLISTED),
      );
      const clock = new ManualClock(NOW);
      const { c } = client(server, { clock, retries: 3, random: () => 0.5 });
      const retrying = failureOf(c.getDumpTask('s', 'a'));
      await until(() => clock.sleeping === 1);
      await failureOf(c.getDumpTask('s', 'b'));
      await clock.advance(125);
      const error = await retrying;
      expect(error).to.be.instanceOf(DisCooldownError);
      expect(server.requests.map((s) => s.path.slice(s.path.lastIndexOf('/')))).to.deep.equal(['/a', '/b']);
    });
  });

  it('ends an auth cool-down once the credentials getter returns other credentials (a reload), not a DIS.4309 one', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        if (req.originalUrl.endsWith('/blocked')) res.status(400).json(BLACKLISTED);
        else if (String(req.headers.authorization).includes('Access=AK-new,')) res.json(BODY);
        else res.status(401).json(BAD_AUTH);
      });
      const clock = new ManualClock(NOW);
      let credentials: Credentials = { kind: 'aksk', accessKey: 'AK-old', secretKey: 'SK-secret' };
      const { c } = client(server, { clock, authFailuresBeforeCooldown: 2, credentials: () => credentials });
      for (let i = 0; i < 2; i++) expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_HTTP');
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      // the same credentials in a new object are not new credentials
      credentials = { kind: 'aksk', accessKey: 'AK-old', secretKey: 'SK-secret' };
      expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_COOLDOWN');
      credentials = { kind: 'aksk', accessKey: 'AK-new', secretKey: 'SK-secret' };
      expect((await c.getDumpTask('s', 't')).taskId).to.equal('id1');
      expect(c.cooldownUntilMs()).to.equal(undefined);
      expect(server.requests).to.have.length(3);

      expect((await failureOf(c.getDumpTask('s', 'blocked'))).code).to.equal('ERR_DIS_HTTP');
      credentials = { kind: 'aksk', accessKey: 'AK-newer', secretKey: 'SK-secret' };
      expect((await failureOf(c.getDumpTask('s', 't'))).code).to.equal('ERR_DIS_COOLDOWN');
      expect(c.cooldownUntilMs()).to.equal(NOW + 600_000);
      expect(server.requests).to.have.length(4);
    });
  });
});
