import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import type express from 'express';
import type { Credentials } from '../../src/config/types.js';
import { createDisClient, type ApiRequestEvent } from '../../src/dis/client.js';
import { verifySignature } from '../../src/dis/signer.js';
import { ManualClock } from './manual-clock.js';
import { recordRequest, withServer, type RecordedRequest, type TestServer } from './with-server.js';

// The fixtures of the DIS client's tests (test/unit/client*.test.ts): a capture server that plays DIS, a client of
// it, and the answers DIS gives.

/** The project id the clients send. */
export const PID = '0123456789abcdef0123456789abcdef';
/** The clients' clock, 2024-01-01T00:00:00Z; the capture server's Date header says the same. */
export const NOW = Date.UTC(2024, 0, 1);
/** A dump task of stream my-stream as DIS sends it. */
export const BODY = {
  stream_name: 'my-stream',
  task_name: 'my_task',
  task_id: 'id1',
  state: 'RUNNING',
  destination_type: 'OBS',
  obs_destination_description: { obs_bucket_path: 'bucket', deliver_time_interval: 60 },
  partitions: [{ partitionId: 'shardId-0000000000', discard: 0, state: 'RUNNING', last_transfer_offset: 5 }],
};
/** The path of BODY's task. */
export const TASK_PATH = `/v2/${PID}/streams/my-stream/transfer-tasks/my_task`;
/** The API gateway's throttling answer (with a 429). */
export const THROTTLED = { error_code: 'APIGW.0308', error_msg: 'throttled' };
/** DIS's answer to a failure of its own (with a 5xx). */
export const SYSTEM_ERROR = { errorCode: 'DIS.5000', message: 'System error.' };
/** The API gateway's answer to a bad signature (with a 401). */
export const BAD_AUTH = { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' };
/** DIS's answer once it blocked the caller's IP after too many failed requests (with a 400). */
export const BLACKLISTED = { errorCode: 'DIS.4309', message: 'Too many request failures. [r1]' };

/** A request as the capture server saw it, with the result of checking its signature (the secret SK-secret, at NOW). */
export type Seen = RecordedRequest & { verified: string };

function recordSigned(request: IncomingMessage): Seen {
  const recorded = recordRequest(request);
  const url = new URL(recorded.path, `http://${request.headers.host}`);
  const check = verifySignature({ method: recorded.method, url, headers: request.headers }, () => 'SK-secret', NOW);
  return { ...recorded, verified: check.ok ? 'ok' : check.code };
}

/** How the capture server answers a request. */
export type Answer = (res: express.Response, req: express.Request) => void;

/** A bare HTTP server that records what the client sends and answers as told. */
export type CaptureServer = TestServer<Seen> & {
  /** Answers every request from now on with `answer`. */
  answer(answer: Answer): void;
};

/** Runs `run` with a capture server, and always closes it (and the clients made for it) afterwards. */
export function withCaptureServer<T>(run: (server: CaptureServer) => Promise<T>): Promise<T> {
  return withServer(
    (server) => {
      let answer: Answer = () => expect.fail('the test set no answer');
      server.app.use((req, res) => {
        // The client's clock reads NOW: a Date from the real clock would put it years off, which blames the clock for a 401.
        res.set('Date', new Date(NOW).toUTCString());
        answer(res, req);
      });
      return run(Object.assign(server, { answer: (next: Answer) => void (answer = next) }));
    },
    { record: recordSigned },
  );
}

/** IAM password credentials of user "monitor" in domain "acme", whose IAM is at `endpoint`. */
export function iamUser(endpoint: string): () => Credentials {
  return () => ({ kind: 'iam', endpoint, domain: 'acme', username: 'monitor', password: 'Monitor-Password-1' });
}

/** A client of the capture server, closed with it, and the request events it reported. */
export function client(server: CaptureServer, extra: Partial<Parameters<typeof createDisClient>[0]> = {}) {
  const events: ApiRequestEvent[] = [];
  const c = createDisClient({
    endpoint: server.url,
    projectId: PID,
    credentials: () => ({ kind: 'aksk', accessKey: 'AK-id', secretKey: 'SK-secret', securityToken: 'temp-token' }),
    timeoutMs: 1000,
    retries: 0,
    maxSockets: 2,
    clock: new ManualClock(NOW),
    userAgent: 'dis-exporter/test',
    onRequest: (event) => events.push(event),
    ...extra,
  });
  server.defer(() => c.close());
  return { c, events };
}

/** An answer for a server whose n-th request (from 0) gets `answers[n]`, and the last one after that. */
export function sequence(...answers: ReadonlyArray<(res: express.Response) => void>) {
  let n = 0;
  return (res: express.Response) => answers[Math.min(n++, answers.length - 1)]?.(res);
}

/** Answers BODY. */
export const ok = (res: express.Response) => res.json(BODY);
