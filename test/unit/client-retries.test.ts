import { expect } from 'chai';
import type express from 'express';
import type { createDisClient } from '../../src/dis/client.js';
import { DisHttpError } from '../../src/dis/errors.js';
import {
  PID,
  NOW,
  TASK_PATH,
  THROTTLED,
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

describe('DIS client retries: Retry-After and the per-call deadline', () => {
  const waits: ReadonlyArray<[string, (res: express.Response) => void, number, string]> = [
    ['delta-seconds on a 429', (res) => res.status(429).set('Retry-After', '3').json(THROTTLED), 3000, '429'],
    [
      'an HTTP-date on a 503, against the injected clock',
      (res) => res.status(503).set('Retry-After', 'Mon, 01 Jan 2024 00:00:07 GMT').json(SYSTEM_ERROR),
      7000,
      '503',
    ],
    ['0 on a 429: again at once', (res) => res.status(429).set('Retry-After', '0').json(THROTTLED), 0, '429'],
  ];
  for (const [name, answer, waitMs, status] of waits) {
    it(`waits exactly as long as Retry-After says: ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c, events } = client(server, { retries: 3, clock, random: () => expect.fail('no jitter') });
        const pending = c.getDumpTask('my-stream', 'my_task');
        if (waitMs > 0) {
          await until(() => clock.sleeping === 1);
          expect(clock.nextWake).to.equal(NOW + waitMs);
          await clock.advance(waitMs - 1);
          expect(server.requests).to.have.length(1);
          await clock.advance(1);
        }
        await pending;
        expect(events.map((e) => e.code)).to.deep.equal([status, '200']);
        expect(server.requests).to.have.length(2);
      });
    });
  }

  const backOffs: ReadonlyArray<[string, (res: express.Response) => void]> = [
    ['on a 500 (Retry-After counts on 429 and 503 only)', (res) => res.status(500).set('Retry-After', '30').json({})],
    ['on a 400 DIS.4305', (res) => res.status(400).set('Retry-After', '30').json({ errorCode: 'DIS.4305' })],
    ['for a Retry-After that is no number or date', (res) => res.status(429).set('Retry-After', 'soon').json({})],
    ['for a fractional Retry-After', (res) => res.status(503).set('Retry-After', '1.5').json({})],
  ];
  for (const [name, answer] of backOffs) {
    it(`backs off with jitter ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c } = client(server, { retries: 1, clock, random: () => 0.5 });
        const pending = c.getDumpTask('my-stream', 'my_task');
        await until(() => clock.sleeping === 1);
        expect(clock.nextWake).to.equal(NOW + 125);
        await clock.advance(125);
        await pending;
        expect(server.requests).to.have.length(2);
      });
    });
  }

  const giveUps: ReadonlyArray<{
    name: string;
    answer: (res: express.Response) => void;
    extra?: Partial<Parameters<typeof createDisClient>[0]>;
    deadlineMs?: number;
    message: string;
  }> = [
    {
      name: 'a Retry-After over the 60 s default cap',
      answer: (res) => res.status(429).set('Retry-After', '61').json(THROTTLED),
      message: `GET ${TASK_PATH}: HTTP 429 APIGW.0308 (throttled)`,
    },
    {
      name: 'a Retry-After over maxRetryAfterMs',
      answer: (res) => res.status(503).set('Retry-After', '11').json(SYSTEM_ERROR),
      extra: { maxRetryAfterMs: 10_000 },
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
    {
      name: 'a Retry-After that ends at the deadline',
      answer: (res) => res.status(429).set('Retry-After', '5').json(THROTTLED),
      deadlineMs: NOW + 5000,
      message: `GET ${TASK_PATH}: HTTP 429 APIGW.0308 (throttled)`,
    },
    {
      name: 'a back-off that ends at the deadline',
      answer: (res) => res.status(503).json(SYSTEM_ERROR),
      deadlineMs: NOW + 125,
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
    {
      name: 'a deadline already past',
      answer: (res) => res.status(503).json(SYSTEM_ERROR),
      deadlineMs: NOW - 1,
      message: `GET ${TASK_PATH}: HTTP 503 DIS.5000 (System error.)`,
    },
  ];
  for (const { name, answer, extra, deadlineMs, message } of giveUps) {
    it(`fails at once, without waiting, on ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c, events } = client(server, { retries: 3, clock, random: () => 0.5, ...extra });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task', undefined, { deadlineMs }));
        expect(error).to.be.instanceOf(DisHttpError);
        expect(error.message).to.equal(message);
        expect(clock.sleeping).to.equal(0);
        expect(server.requests).to.have.length(1);
        expect(events).to.have.length(1);
      });
    });
  }

  const inTime: ReadonlyArray<[string, (res: express.Response) => void, number, number]> = [
    [
      'a Retry-After that ends 1 ms before the deadline',
      (res) => res.status(429).set('Retry-After', '5').json(THROTTLED),
      5001,
      5000,
    ],
    ['a back-off that ends 1 ms before the deadline', (res) => res.status(503).json(SYSTEM_ERROR), 126, 125],
  ];
  for (const [name, answer, budgetMs, waitMs] of inTime) {
    it(`retries ${name}`, async () => {
      await withCaptureServer(async (server) => {
        server.answer(sequence(answer, ok));
        const clock = new ManualClock(NOW);
        const { c } = client(server, { retries: 3, clock, random: () => 0.5 });
        const pending = c.getDumpTask('my-stream', 'my_task', undefined, { deadlineMs: NOW + budgetMs });
        await until(() => clock.sleeping === 1);
        expect(clock.nextWake).to.equal(NOW + waitMs);
        await clock.advance(waitMs);
        await pending;
        expect(server.requests).to.have.length(2);
      });
    });
  }

  it('applies the deadline to every page of a listing', async () => {
    await withCaptureServer(async (server) => {
      server.answer(
        sequence(
          (res) => res.json({ stream_names: ['a'], has_more_streams: true }),
          (res) => res.status(503).json(SYSTEM_ERROR),
          (res) => res.json({ stream_names: ['b'], has_more_streams: false }),
        ),
      );
      const clock = new ManualClock(NOW);
      const { c } = client(server, { retries: 3, clock, random: () => 0.5 });
      const error = await failureOf(c.listStreams(undefined, { deadlineMs: NOW + 100 }));
      expect(error.message).to.equal(
        `GET /v2/${PID}/streams?limit=100&start_stream_name=a: HTTP 503 DIS.5000 (System error.)`,
      );
      expect(server.requests).to.have.length(2);
    });
  });

  const never: ReadonlyArray<[string, number, object, string]> = [
    ['401 APIGW.0301', 401, BAD_AUTH, 'auth'],
    ['403 DIS.4116', 403, { errorCode: 'DIS.4116', message: 'Invalid RBAC.' }, 'auth'],
    ['400 DIS.4309', 400, BLACKLISTED, 'auth'],
    ['401 APIGW.0303', 401, { error_code: 'APIGW.0303', error_msg: 'Signature expired' }, 'auth'],
    ['400 DIS.4354', 400, { errorCode: 'DIS.4354', message: 'The transfer task does not exist.' }, 'not_found'],
  ];
  for (const [name, status, body, reason] of never) {
    it(`never retries ${name} (reason ${reason}), even with a Retry-After`, async () => {
      await withCaptureServer(async (server) => {
        server.answer((res) => res.status(status).set('Retry-After', '1').json(body));
        const { c } = client(server, { retries: 3, random: () => 0 });
        const error = await failureOf(c.getDumpTask('my-stream', 'my_task'));
        expect(error.reason).to.equal(reason);
        expect(server.requests).to.have.length(1);
      });
    });
  }
});
