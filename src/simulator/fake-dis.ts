import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request, Response } from 'express';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { createFakeDisControl, type FakeDisControl } from './control.js';
import { disError, unknownApiError } from './error-bodies.js';
import { handleOperation, JSON_TYPE } from './routes.js';
import type { Scenario, ScenarioCredential } from './scenario.js';
import { createFakeDisState, type FakeDisState } from './state.js';

export {
  loadScenario,
  parseScenario,
  parseFault,
  parseStreamInput,
  parseTaskInput,
  bundledScenarioPath,
} from './scenario.js';
export { serviceAccountJwt } from './id-tokens.js';
export type {
  AgencySettings,
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
  credentials?: readonly ScenarioCredential[];
};

/** A running fake DIS. */
export type FakeDis = {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Base URL of the metadata service (on a port of its own), when the scenario has an agency. */
  metadataUrl?: string;
  control: FakeDisControl;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
};

/**
 * Builds the fake DIS as an express app, without listening, plus its control handle and, when the scenario has an
 * agency, the metadata service's app.
 */
export function createFakeDisApp(options: FakeDisOptions): {
  app: express.Express;
  control: FakeDisControl;
  metadata?: express.Express;
} {
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
  const text = express.text({ type: () => true, limit: '64kb' });
  app.post('/v3/auth/tokens', text, handleOperation(fake, 'iam_token'));
  app.post('/v3.0/OS-AUTH/id-token/tokens', text, handleOperation(fake, 'oidc_token'));
  addCatchAll(app, fake);
  const metadata = fake.agency === undefined ? undefined : createMetadataApp(fake);
  return { app, control, ...(metadata === undefined ? {} : { metadata }) };
}

/** The metadata service, an app of its own: it answers on another address than DIS (169.254.169.254 for real). */
function createMetadataApp(fake: FakeDisState): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.put('/meta-data/latest/api/token', handleOperation(fake, 'metadata_token'));
  app.get('/openstack/latest/securitykey', handleOperation(fake, 'metadata_securitykey'));
  addCatchAll(app, fake);
  return app;
}

/** The answers to unknown paths and to a simulator bug, as the real service's catch-all gives them. */
function addCatchAll(app: express.Express, fake: FakeDisState): void {
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
}

/** A listening server: its base URL, and how to close it with every connection. */
type Listening = { url: string; close(): Promise<void> };

async function listenOn(app: express.Express, host: string, port: number): Promise<Listening> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
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

/**
 * Starts the fake DIS on `host` (default 127.0.0.1) and `port` (default 0: any free port), and the metadata service,
 * when the scenario has an agency, on `metadataPort` (default 0).
 */
export async function startFakeDis(
  options: FakeDisOptions & { host?: string; port?: number; metadataPort?: number },
): Promise<FakeDis> {
  const { app, control, metadata } = createFakeDisApp(options);
  const host = options.host ?? '127.0.0.1';
  const dis = await listenOn(app, host, options.port ?? 0);
  const metadataServer = metadata === undefined ? undefined : await listenOn(metadata, host, options.metadataPort ?? 0);
  return {
    url: dis.url,
    ...(metadataServer === undefined ? {} : { metadataUrl: metadataServer.url }),
    control,
    async close() {
      await Promise.all([dis.close(), metadataServer?.close()]);
    },
  };
}
