import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request, Response } from 'express';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { createFakeDisControl, type FakeDisControl } from './control.js';
import { disError, unknownApiError } from './error-bodies.js';
import { handleOperation, JSON_TYPE } from './routes.js';
import type { Scenario } from './scenario.js';
import { createFakeDisState } from './state.js';

export {
  loadScenario,
  parseScenario,
  parseFault,
  parseStreamInput,
  parseTaskInput,
  bundledScenarioPath,
} from './scenario.js';
export type {
  Fault,
  FaultKind,
  IamSettings,
  IamUser,
  Operation,
  PartitionOverrideInput,
  PartitionSpecInput,
  Scenario,
  StreamSpecInput,
  TaskSpecInput,
} from './scenario.js';
export type { FakeDisControl } from './control.js';
export type { RecordedRequest } from './state.js';

/** How to build a fake DIS. */
export type FakeDisOptions = {
  /** A scenario from `loadScenario`/`parseScenario`. */
  scenario: Scenario;
  /** Source of every offset and timestamp, and of fault latency; default `systemClock`. */
  clock?: Clock;
  /** Accepted AK/SK pairs; default the scenario's. An empty list turns signature checks off. */
  credentials?: ReadonlyArray<{ accessKey: string; secretKey: string }>;
};

/** A running fake DIS. */
export type FakeDis = {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  control: FakeDisControl;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
};

/** Builds the fake DIS as an express app, without listening, plus its control handle. */
export function createFakeDisApp(options: FakeDisOptions): { app: express.Express; control: FakeDisControl } {
  const { scenario } = options;
  const clock = options.clock ?? systemClock;
  const fake = createFakeDisState(scenario, clock, options.credentials ?? scenario.credentials);
  const control = createFakeDisControl(fake);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The service's time, as the real gateway sends it: what a client compares its clock with after APIGW.0303.
  app.use((_req: Request, res: Response, next: express.NextFunction) => {
    res.setHeader('Date', new Date(clock.now()).toUTCString());
    next();
  });
  app.get('/v2/:projectId/streams', handleOperation(fake, 'list_streams'));
  app.get('/v2/:projectId/streams/:streamName', handleOperation(fake, 'show_stream'));
  app.get('/v2/:projectId/streams/:streamName/transfer-tasks', handleOperation(fake, 'list_transfer_tasks'));
  app.get('/v2/:projectId/streams/:streamName/transfer-tasks/:taskName', handleOperation(fake, 'show_transfer_task'));
  app.get('/v2/:projectId/apps', handleOperation(fake, 'list_apps'));
  app.get('/v2/:projectId/apps/:appName/streams/:streamName', handleOperation(fake, 'show_consumer_state'));
  // IAM on the same server, so one URL serves both: `auth.iam.endpoint` and `dis.endpoint` may be equal.
  app.post('/v3/auth/tokens', express.text({ type: () => true, limit: '64kb' }), handleOperation(fake, 'iam_token'));
  app.use((_req: Request, res: Response) => {
    const requestId = fake.nextRequestId(res);
    res.status(404).setHeader('Content-Type', JSON_TYPE);
    res.end(JSON.stringify(unknownApiError(requestId)));
  });
  app.use((_error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    // Only a simulator bug lands here; answer like the real service's catch-all rather than with an HTML stack trace.
    const existing = res.getHeader('X-Request-Id');
    const requestId = typeof existing === 'string' ? existing : fake.nextRequestId(res);
    res.status(500).setHeader('Content-Type', JSON_TYPE);
    res.end(JSON.stringify(disError('DIS.5000', 'System error.', 'simulator', requestId)));
  });
  return { app, control };
}

/** Starts the fake DIS on `host` (default 127.0.0.1) and `port` (default 0: any free port). */
export async function startFakeDis(options: FakeDisOptions & { host?: string; port?: number }): Promise<FakeDis> {
  const { app, control } = createFakeDisApp(options);
  const host = options.host ?? '127.0.0.1';
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    control,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Keep-alive sockets and requests held open by a `timeout` fault would otherwise keep close() waiting forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
