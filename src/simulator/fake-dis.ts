import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request, Response } from 'express';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { verifySignature } from '../dis/signer.js';
import { defaultFaultBody, disError, errorCodeOf, gatewayError, unknownApiError } from './error-bodies.js';
import { createFaultInjector, writeOversizedBody } from './faults.js';
import type { TerminalFault } from './faults.js';
import { createFakeIam } from './iam.js';
import { MAX_TASKS_PER_STREAM, parseFault, parseStreamInput, parseTaskInput } from './scenario.js';
import type { Fault, FaultKind, Operation, Scenario, StreamSpecInput, TaskSpecInput } from './scenario.js';
import { listStreamsBody, listTasksBody, showStreamBody, showTaskBody, streamAt, taskAt, tasksAt } from './world.js';
import type { LiveStream, Lookup, World, WorldEvent } from './world.js';

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

/** One request the fake answered (or deliberately did not: `status` 0 for `timeout`, `reset` and client aborts). */
export type RecordedRequest = Readonly<{
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The raw query string without `?`; `''` when there is none. */
  query: string;
  operation: Operation;
  status: number;
  requestId: string;
  /** Kinds of the injected faults that hit this request, in order. */
  faults: readonly FaultKind[];
  /** The `errorCode` (DIS) or `error_code` (API gateway) of the error body sent, when it had one. */
  errorCode?: string;
}>;

/**
 * Changes the simulated world at runtime (effective from the clock's current time) and inspects the traffic.
 * Every change names things that exist now, and throws (changing nothing) otherwise.
 */
export interface FakeDisControl {
  /** Sets a task's state; leaving RUNNING freezes its progress from now on, returning to RUNNING resumes it. */
  setTaskState(stream: string, task: string, state: string): void;
  /** Sets one partition's state within a task; anything but RUNNING freezes that partition's offset. */
  setPartitionState(stream: string, task: string, partitionId: string, state: string): void;
  /** Deletes a task: details answer 400 DIS.4354 and the list no longer shows it. */
  deleteTask(stream: string, task: string): void;
  /** Deletes a stream: its endpoints answer 400 DIS.4301 and the list no longer shows it. */
  deleteStream(stream: string): void;
  /**
   * Adds a dump task (a scenario task entry, validated like one) at the end of the stream's task list. Its time
   * zero is now: it is created now unless `createdMsAgo` says otherwise, and first delivers one interval later.
   * Throws when the name is taken or the stream already has 5 tasks (the DIS quota).
   */
  addTask(stream: string, task: TaskSpecInput): void;
  /**
   * Adds a stream (a scenario stream entry, validated like one, tasks included). Its time zero is now: its end
   * offsets start at `initialRecords` now, and it is created now unless `createdMsAgo` says otherwise.
   */
  addStream(stream: StreamSpecInput): void;
  /**
   * The dump went backwards once (as after a task reset): from now on the task's `last_transfer_offset` for the
   * partition is `records` lower than it would be, but never below the partition start.
   */
  rewindPartition(stream: string, task: string, partitionId: string, records: number): void;
  /** From the next delivery on, the task's deliveries for the partition lag its end offset by `behindRecords`. */
  setPartitionBehind(stream: string, task: string, partitionId: string, behindRecords: number): void;
  /** The partition is EXPIRED from now on: `sequence_number_range` null, no more writes. */
  expirePartition(stream: string, partitionId: string): void;
  /**
   * The partition's end offset grows at `recordsPerSecond` from now on (the records so far stay, so end offsets
   * are continuous); 0 makes it idle.
   */
  setRecordsPerSecond(stream: string, partitionId: string, recordsPerSecond: number): void;
  /** Adds a fault after the existing ones (validated like a scenario's). */
  addFault(fault: Fault): void;
  /** Removes every fault, the scenario's included. */
  clearFaults(): void;
  /**
   * Every request to one of the four DIS operations or to IAM's token request (operation `iam_token`) so far,
   * oldest first (unknown paths are not recorded).
   */
  requests(): ReadonlyArray<RecordedRequest>;
  /** Forgets the recorded requests. */
  resetRequests(): void;
  /** Every IAM token issued so far is rejected from now on (401 APIGW.0301), as after expiry or a password change. */
  revokeIamTokens(): void;
  /** Every IAM token issued so far, oldest first (for tests that look for leaks). */
  issuedIamTokens(): readonly string[];
}

/** The content type the real service answers with. */
const JSON_TYPE = 'application/json;charset=UTF-8';
// A truncated JSON document: what a proxy cutting a response short produces.
const DEFAULT_MALFORMED_BODY = '{"stream_name":"';

type PathParams = { projectId: string; streamName?: string; taskName?: string };
type Page = { limit: number; start?: string };

/** Builds the fake DIS as an express app, without listening, plus its control handle. */
export function createFakeDisApp(options: FakeDisOptions): { app: express.Express; control: FakeDisControl } {
  const { scenario } = options;
  const clock = options.clock ?? systemClock;
  const credentials = options.credentials ?? scenario.credentials;
  const secrets = new Map(credentials.map((c) => [c.accessKey, c.secretKey]));
  const epochMs = scenario.epochMs ?? clock.now();
  const events: WorldEvent[] = [];
  const world = (): World => ({ scenario, epochMs, events });
  const faults = createFaultInjector(scenario.faults, scenario.seed);
  const iam = createFakeIam(scenario.iam, scenario.projectId, scenario.seed);
  const log: RecordedRequest[] = [];
  let requestCounter = 0;

  const nextRequestId = (res: Response): string => {
    requestCounter += 1;
    // Deterministic, and shaped like the real 32-hex-digit ids.
    const id = requestCounter.toString(16).padStart(32, '0');
    res.setHeader('X-Request-Id', id);
    return id;
  };

  const liveStream = (stream: string): LiveStream => {
    const live = streamAt(world(), stream, clock.now());
    if (live === undefined) throw new Error(`no stream "${stream}"`);
    return live;
  };
  const requireTask = (stream: string, task: string): LiveStream => {
    const live = liveStream(stream);
    if (taskAt(live, task, clock.now()) === undefined) throw new Error(`no task "${task}" in stream "${stream}"`);
    return live;
  };
  const requirePartition = (live: LiveStream, partitionId: string): void => {
    if (!live.spec.partitions.some((p) => p.id === partitionId)) {
      throw new Error(`no partition "${partitionId}" in stream "${live.spec.name}"`);
    }
  };
  const requireCount = (name: string, value: number, min: number, integer: boolean): void => {
    const ok = Number.isFinite(value) && value >= min && (!integer || Number.isSafeInteger(value));
    if (!ok) throw new Error(`${name}: must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  };

  const control: FakeDisControl = {
    setTaskState(stream, task, state) {
      requireTask(stream, task);
      events.push({ kind: 'task-state', stream, task, state, atMs: clock.now() });
    },
    setPartitionState(stream, task, partitionId, state) {
      requirePartition(requireTask(stream, task), partitionId);
      events.push({ kind: 'partition-state', stream, task, partitionId, state, atMs: clock.now() });
    },
    deleteTask(stream, task) {
      requireTask(stream, task);
      events.push({ kind: 'delete-task', stream, task, atMs: clock.now() });
    },
    deleteStream(stream) {
      liveStream(stream);
      events.push({ kind: 'delete-stream', stream, atMs: clock.now() });
    },
    addTask(stream, task) {
      const live = liveStream(stream);
      const partitionIds = live.spec.partitions.map((p) => p.id);
      const spec = parseTaskInput(task, stream, partitionIds);
      const existing = tasksAt(live, clock.now());
      if (existing.some((t) => t.spec.name === spec.name)) {
        throw new Error(`task "${spec.name}" already exists in stream "${stream}"`);
      }
      if (existing.length >= MAX_TASKS_PER_STREAM) {
        throw new Error(`stream "${stream}" already has ${MAX_TASKS_PER_STREAM} dump tasks (the DIS quota)`);
      }
      events.push({ kind: 'add-task', stream, spec, atMs: clock.now() });
    },
    addStream(stream) {
      const spec = parseStreamInput(stream);
      if (streamAt(world(), spec.name, clock.now()) !== undefined) {
        throw new Error(`stream "${spec.name}" already exists`);
      }
      events.push({ kind: 'add-stream', spec, atMs: clock.now() });
    },
    rewindPartition(stream, task, partitionId, records) {
      requirePartition(requireTask(stream, task), partitionId);
      requireCount('records', records, 1, true);
      events.push({ kind: 'rewind', stream, task, partitionId, records, atMs: clock.now() });
    },
    setPartitionBehind(stream, task, partitionId, behindRecords) {
      requirePartition(requireTask(stream, task), partitionId);
      requireCount('behindRecords', behindRecords, 0, true);
      events.push({ kind: 'partition-behind', stream, task, partitionId, behindRecords, atMs: clock.now() });
    },
    expirePartition(stream, partitionId) {
      requirePartition(liveStream(stream), partitionId);
      events.push({ kind: 'expire-partition', stream, partitionId, atMs: clock.now() });
    },
    setRecordsPerSecond(stream, partitionId, recordsPerSecond) {
      requirePartition(liveStream(stream), partitionId);
      requireCount('recordsPerSecond', recordsPerSecond, 0, false);
      events.push({ kind: 'records-per-second', stream, partitionId, recordsPerSecond, atMs: clock.now() });
    },
    addFault(fault) {
      faults.add(parseFault(fault));
    },
    clearFaults() {
      faults.clear();
    },
    requests() {
      return [...log];
    },
    resetRequests() {
      log.length = 0;
    },
    revokeIamTokens() {
      iam.revokeAll();
    },
    issuedIamTokens() {
      return iam.issued();
    },
  };

  const handle =
    (operation: Operation) =>
    async (req: Request, res: Response): Promise<void> => {
      const requestId = nextRequestId(res);
      const params = pathParams(req);
      const rawUrl = req.originalUrl;
      const queryStart = rawUrl.indexOf('?');
      const applied: FaultKind[] = [];
      const record = (status: number, errorCode?: string): void => {
        log.push({
          method: req.method,
          path: queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart),
          query: queryStart === -1 ? '' : rawUrl.slice(queryStart + 1),
          operation,
          status,
          requestId,
          faults: [...applied],
          ...(errorCode === undefined ? {} : { errorCode }),
        });
      };
      const send = (status: number, body: unknown, contentType = JSON_TYPE): void => {
        record(status, errorCodeOf(body));
        res.status(status).setHeader('Content-Type', contentType);
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };

      if (operation !== 'iam_token') {
        // A request with an IAM token is checked by its token; any other by its AK/SK signature.
        const token = req.headers['x-auth-token'];
        const verdict =
          typeof token === 'string'
            ? iam.verify(token, params.projectId, clock.now())
            : secrets.size > 0
              ? checkSignature(req, secrets, clock.now())
              : undefined;
        if (verdict?.ok === false) {
          send(401, gatewayError(verdict.code, verdict.message, requestId));
          return;
        }
        const headerProject = req.headers['x-project-id'];
        if (
          params.projectId !== scenario.projectId ||
          (headerProject !== undefined && headerProject !== params.projectId)
        ) {
          send(400, disError('DIS.4117', 'Invalid Project Id.', params.projectId, requestId));
          return;
        }
      }

      const plan = faults.plan({
        operation,
        ...(params.streamName === undefined ? {} : { stream: params.streamName }),
        ...(params.taskName === undefined ? {} : { task: params.taskName }),
        elapsedMs: clock.now() - epochMs,
      });
      applied.push(...plan.applied);
      if (plan.latencyMs > 0) {
        const abort = new AbortController();
        // A client that gives up (or a server that closes) ends the wait, so nothing outlives the connection.
        const onClose = (): void => abort.abort();
        res.once('close', onClose);
        try {
          await clock.sleep(plan.latencyMs, abort.signal);
        } catch {
          record(0);
          return;
        } finally {
          res.off('close', onClose);
        }
      }
      if (plan.terminal !== undefined) {
        applyTerminalFault(plan.terminal, req, res, requestId, send, record);
        return;
      }

      const url = new URL(rawUrl, 'http://simulator.invalid');
      const nowMs = clock.now();
      switch (operation) {
        case 'iam_token': {
          const answer = iam.issue(typeof req.body === 'string' ? req.body : '', nowMs);
          for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
          send(answer.status, answer.body);
          return;
        }
        case 'list_streams': {
          const page = readPage(url.searchParams, 'start_stream_name', 'limit', 100, 10);
          if (typeof page === 'string') {
            send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
            return;
          }
          send(200, listStreamsBody(world(), nowMs, { limit: page.limit, ...optional('startStreamName', page.start) }));
          return;
        }
        case 'show_stream': {
          const page = readPage(url.searchParams, 'start_partitionId', 'limit_partitions', 1000, 100);
          if (typeof page === 'string') {
            send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
            return;
          }
          const stream = params.streamName ?? '';
          const body = showStreamBody(world(), nowMs, stream, {
            limit: page.limit,
            ...optional('startPartitionId', page.start),
          });
          sendLookup(body, params, requestId, send);
          return;
        }
        case 'list_transfer_tasks':
          sendLookup(listTasksBody(world(), nowMs, params.streamName ?? ''), params, requestId, send);
          return;
        case 'show_transfer_task':
          sendLookup(
            showTaskBody(world(), nowMs, params.streamName ?? '', params.taskName ?? ''),
            params,
            requestId,
            send,
          );
          return;
      }
    };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The service's time, as the real gateway sends it: what a client compares its clock with after APIGW.0303.
  app.use((_req: Request, res: Response, next: express.NextFunction) => {
    res.setHeader('Date', new Date(clock.now()).toUTCString());
    next();
  });
  app.get('/v2/:projectId/streams', handle('list_streams'));
  app.get('/v2/:projectId/streams/:streamName', handle('show_stream'));
  app.get('/v2/:projectId/streams/:streamName/transfer-tasks', handle('list_transfer_tasks'));
  app.get('/v2/:projectId/streams/:streamName/transfer-tasks/:taskName', handle('show_transfer_task'));
  // IAM on the same server, so one URL serves both: `auth.iam.endpoint` and `dis.endpoint` may be equal.
  app.post('/v3/auth/tokens', express.text({ type: () => true, limit: '64kb' }), handle('iam_token'));
  app.use((_req: Request, res: Response) => {
    const requestId = nextRequestId(res);
    res.status(404).setHeader('Content-Type', JSON_TYPE);
    res.end(JSON.stringify(unknownApiError(requestId)));
  });
  app.use((_error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    // Only a simulator bug lands here; answer like the real service's catch-all rather than with an HTML stack trace.
    const existing = res.getHeader('X-Request-Id');
    const requestId = typeof existing === 'string' ? existing : nextRequestId(res);
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

function pathParams(req: Request): PathParams {
  const params = req.params as Record<string, string | undefined>;
  return {
    projectId: params['projectId'] ?? '',
    ...optional('streamName', params['streamName']),
    ...optional('taskName', params['taskName']),
  };
}

function checkSignature(
  req: Request,
  secrets: ReadonlyMap<string, string>,
  nowMs: number,
): ReturnType<typeof verifySignature> {
  let url: URL;
  try {
    url = new URL(req.originalUrl, `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    return {
      ok: false,
      code: 'APIGW.0301',
      message: 'Incorrect IAM authentication information: malformed Host header',
    };
  }
  return verifySignature(
    { method: req.method, url, headers: req.headers },
    (accessKey) => secrets.get(accessKey),
    nowMs,
  );
}

function applyTerminalFault(
  fault: TerminalFault,
  req: Request,
  res: Response,
  requestId: string,
  send: (status: number, body: unknown, contentType?: string) => void,
  record: (status: number) => void,
): void {
  switch (fault.kind) {
    case 'timeout':
      // Never answer: the client's timeout or the server's close() ends the exchange.
      record(0);
      return;
    case 'reset':
      record(0);
      req.socket.destroy();
      return;
    case 'malformed':
      send(200, fault.body ?? DEFAULT_MALFORMED_BODY, fault.contentType);
      return;
    case 'status': {
      const status = fault.status ?? 500;
      if (fault.retryAfter !== undefined) res.setHeader('Retry-After', fault.retryAfter);
      send(status, fault.body ?? defaultFaultBody(status, requestId), fault.contentType);
      return;
    }
    case 'oversized':
      record(200);
      res.status(200).setHeader('Content-Type', JSON_TYPE);
      writeOversizedBody(res, fault.bytes ?? 1);
      return;
  }
}

function sendLookup<T>(
  lookup: Lookup<T>,
  params: PathParams,
  requestId: string,
  send: (status: number, body: unknown) => void,
): void {
  if (lookup.found) {
    send(200, lookup.value);
  } else if (lookup.missing === 'stream') {
    send(400, disError('DIS.4301', 'Stream does not exist.', params.streamName ?? '', requestId));
  } else {
    send(400, disError('DIS.4354', 'The transfer task does not exist.', params.taskName ?? '', requestId));
  }
}

/** Reads a paging pair; returns the offending parameter's description when it is invalid. */
function readPage(
  query: URLSearchParams,
  startKey: string,
  limitKey: string,
  max: number,
  fallback: number,
): Page | string {
  const starts = query.getAll(startKey);
  const limits = query.getAll(limitKey);
  if (starts.length > 1) return `${startKey} given more than once`;
  if (limits.length > 1) return `${limitKey} given more than once`;
  const rawLimit = limits[0];
  let limit = fallback;
  if (rawLimit !== undefined) {
    limit = /^\d+$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (!(limit >= 1 && limit <= max)) return `${limitKey} must be an integer from 1 to ${max}`;
  }
  const start = starts[0];
  // An empty start parameter means "from the beginning", as the Kafka adapter sends it for the first page.
  return start === undefined || start === '' ? { limit } : { limit, start };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
