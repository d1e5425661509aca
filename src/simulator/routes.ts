import type { Request, Response } from 'express';
import { verifySignature } from '../dis/signer.js';
import { TOKEN_MISMATCH } from './agency.js';
import { defaultFaultBody, disError, errorCodeOf, gatewayError } from './error-bodies.js';
import { writeOversizedBody } from './faults.js';
import type { TerminalFault } from './faults.js';
import type { FaultKind, Operation } from './scenario.js';
import type { FakeDisState } from './state.js';
import { consumerStateBody, listAppsBody } from './apps.js';
import { listStreamsBody, listTasksBody, showStreamBody, showTaskBody } from './world.js';
import type { Lookup } from './world.js';

/** The content type the real service answers with. */
export const JSON_TYPE = 'application/json;charset=UTF-8';
/** The operations that are not DIS calls: they carry no DIS authentication and name no project. */
const NOT_DIS: ReadonlySet<Operation> = new Set(['iam_token', 'oidc_token', 'metadata_token', 'metadata_securitykey']);
// A truncated JSON document: what a proxy cutting a response short produces.
const DEFAULT_MALFORMED_BODY = '{"stream_name":"';

type PathParams = { projectId: string; streamName?: string; taskName?: string; appName?: string };
type Page = { limit: number; start?: string };

/** One request being answered: its id, the faults that hit it, and how to answer it (recorded in the log). */
type Exchange = Readonly<{
  req: Request;
  res: Response;
  operation: Operation;
  requestId: string;
  params: PathParams;
  /** Kinds of the injected faults that hit this request so far. */
  applied: FaultKind[];
  /** Logs the request with this status (0: not answered) and error code. */
  record: (status: number, errorCode?: string) => void;
  /** Answers with this status and body (JSON unless a string), and logs it. */
  send: (status: number, body: unknown, contentType?: string) => void;
}>;

/**
 * The express handler of one operation: checks the signature or IAM token and the project id, applies the faults
 * that match (latency, then at most one terminal fault), then answers from the simulated world.
 */
export function handleOperation(fake: FakeDisState, operation: Operation) {
  return async (req: Request, res: Response): Promise<void> => {
    const exchange = startExchange(fake, operation, req, res);
    if (!NOT_DIS.has(operation) && refused(fake, exchange)) return;
    if (!(await survivedFaults(fake, exchange))) return;
    answer(fake, exchange);
  };
}

/** Gives the request its id and the means to answer it and to log it. */
function startExchange(fake: FakeDisState, operation: Operation, req: Request, res: Response): Exchange {
  const requestId = fake.nextRequestId(res);
  const params = pathParams(req);
  const rawUrl = req.originalUrl;
  const queryStart = rawUrl.indexOf('?');
  const applied: FaultKind[] = [];
  const record = (status: number, errorCode?: string): void => {
    fake.log.push({
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
  return { req, res, operation, requestId, params, applied, record, send };
}

/**
 * Answers a DIS request that fails authentication (401) or names another project (400 DIS.4117), and says whether it
 * did. A request with an IAM token is checked by its token; any other by its AK/SK signature, and a temporary key's
 * by its security token too.
 */
function refused(fake: FakeDisState, { req, params, requestId, send }: Exchange): boolean {
  const token = req.headers['x-auth-token'];
  const verdict =
    typeof token === 'string'
      ? fake.iam.verify(token, params.projectId, fake.clock.now())
      : fake.secrets.size > 0 || fake.agency !== undefined
        ? checkSignedRequest(fake, req)
        : undefined;
  if (verdict?.ok === false) {
    send(401, gatewayError(verdict.code, verdict.message, requestId));
    return true;
  }
  const headerProject = req.headers['x-project-id'];
  if (
    params.projectId !== fake.scenario.projectId ||
    (headerProject !== undefined && headerProject !== params.projectId)
  ) {
    send(400, disError('DIS.4117', 'Invalid Project Id.', params.projectId, requestId));
    return true;
  }
  return false;
}

/**
 * Applies the faults that match the request: waits out their latency, then applies a terminal fault. Whether the
 * request still wants its normal answer: false when a terminal fault answered it or the client gave up waiting.
 */
async function survivedFaults(fake: FakeDisState, exchange: Exchange): Promise<boolean> {
  const { res, params } = exchange;
  const plan = fake.faults.plan({
    operation: exchange.operation,
    ...(params.streamName === undefined ? {} : { stream: params.streamName }),
    ...(params.taskName === undefined ? {} : { task: params.taskName }),
    elapsedMs: fake.clock.now() - fake.epochMs,
  });
  exchange.applied.push(...plan.applied);
  if (plan.latencyMs > 0) {
    const abort = new AbortController();
    // A client that gives up (or a server that closes) ends the wait, so nothing outlives the connection.
    const onClose = (): void => abort.abort();
    res.once('close', onClose);
    try {
      await fake.clock.sleep(plan.latencyMs, abort.signal);
    } catch {
      exchange.record(0);
      return false;
    } finally {
      res.off('close', onClose);
    }
  }
  if (plan.terminal !== undefined) {
    applyTerminalFault(plan.terminal, exchange);
    return false;
  }
  return true;
}

/** The normal answer of each operation, from the world as it is now. */
function answer(fake: FakeDisState, { req, res, operation, params, requestId, send }: Exchange): void {
  const url = new URL(req.originalUrl, 'http://simulator.invalid');
  const nowMs = fake.clock.now();
  const world = fake.world();
  switch (operation) {
    case 'iam_token':
    case 'oidc_token': {
      const body = typeof req.body === 'string' ? req.body : '';
      const idpId = req.headers['x-idp-id'];
      const issued =
        operation === 'iam_token'
          ? fake.iam.issue(body, nowMs)
          : fake.iam.issueForIdToken(typeof idpId === 'string' ? idpId : undefined, body, nowMs);
      for (const [name, value] of Object.entries(issued.headers)) res.setHeader(name, value);
      send(issued.status, issued.body);
      return;
    }
    case 'metadata_token':
    case 'metadata_securitykey': {
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const agency = fake.agency!;
      const answered =
        operation === 'metadata_token'
          ? agency.sessionToken(header('x-metadata-token-ttl-seconds'), nowMs)
          : agency.securityKey(header('x-metadata-token'), nowMs);
      send(answered.status, answered.body, typeof answered.body === 'string' ? 'text/plain' : JSON_TYPE);
      return;
    }
    case 'list_streams': {
      const page = readPage(url.searchParams, 'start_stream_name', 'limit', 100, 10);
      if (typeof page === 'string') {
        send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
        return;
      }
      send(200, listStreamsBody(world, nowMs, { limit: page.limit, ...optional('startStreamName', page.start) }));
      return;
    }
    case 'show_stream': {
      const page = readPage(url.searchParams, 'start_partitionId', 'limit_partitions', 1000, 100);
      if (typeof page === 'string') {
        send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
        return;
      }
      const stream = params.streamName ?? '';
      const body = showStreamBody(world, nowMs, stream, {
        limit: page.limit,
        ...optional('startPartitionId', page.start),
      });
      sendLookup(body, params, requestId, send);
      return;
    }
    case 'list_transfer_tasks':
      sendLookup(listTasksBody(world, nowMs, params.streamName ?? ''), params, requestId, send);
      return;
    case 'show_transfer_task':
      sendLookup(showTaskBody(world, nowMs, params.streamName ?? '', params.taskName ?? ''), params, requestId, send);
      return;
    case 'list_apps': {
      const page = readPage(url.searchParams, 'start_app_name', 'limit', 100, 10);
      if (typeof page === 'string') {
        send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
        return;
      }
      const streamName = url.searchParams.get('stream_name') ?? undefined;
      send(
        200,
        listAppsBody(world, {
          limit: page.limit,
          ...optional('startAppName', page.start),
          ...optional('streamName', streamName),
        }),
      );
      return;
    }
    case 'show_consumer_state': {
      const page = readPage(url.searchParams, 'start_partition_id', 'limit', 1000, 100);
      if (typeof page === 'string') {
        send(400, disError('DIS.4200', 'Invalid request.', page, requestId));
        return;
      }
      // Required, and LAST_READ is its only value (docs/dis-api.md ("Consumer apps")).
      if (url.searchParams.get('checkpoint_type') !== 'LAST_READ') {
        send(400, disError('DIS.4200', 'Invalid request.', 'checkpoint_type must be LAST_READ', requestId));
        return;
      }
      const names = { app: params.appName ?? '', stream: params.streamName ?? '' };
      const lookup = consumerStateBody(world, nowMs, names, {
        limit: page.limit,
        ...optional('startPartitionId', page.start),
      });
      if (lookup.found) send(200, lookup.value);
      else if (lookup.missing === 'app') send(400, disError('DIS.4332', 'app not found.', names.app, requestId));
      else send(400, disError('DIS.4301', 'Stream does not exist.', names.stream, requestId));
      return;
    }
  }
}

function pathParams(req: Request): PathParams {
  const params = req.params as Record<string, string | undefined>;
  return {
    projectId: params['projectId'] ?? '',
    ...optional('streamName', params['streamName']),
    ...optional('taskName', params['taskName']),
    ...optional('appName', params['appName']),
  };
}

/**
 * A signed request's verdict: its signature, and for a temporary key its security token (a scenario's key with one, or
 * the agency's, whose expiry counts too).
 */
function checkSignedRequest(
  fake: FakeDisState,
  req: Request,
): { ok: true } | { ok: false; code: string; message: string } {
  const nowMs = fake.clock.now();
  const { agency } = fake;
  const lookup = (accessKey: string): string | undefined => fake.secrets.get(accessKey) ?? agency?.secretOf(accessKey);
  const signature = checkSignature(req, lookup, nowMs);
  if (!signature.ok) return signature;
  const securityToken = req.headers['x-security-token'];
  if (fake.secrets.has(signature.accessKey)) {
    const wanted = fake.securityTokens.get(signature.accessKey);
    if (wanted === undefined || securityToken === wanted) return signature;
    return { ok: false, code: 'APIGW.0301', message: `Incorrect IAM authentication information: ${TOKEN_MISMATCH}` };
  }
  if (agency === undefined) return signature;
  const verdict = agency.verify(
    signature.accessKey,
    typeof securityToken === 'string' ? securityToken : undefined,
    nowMs,
  );
  return verdict.ok ? { ok: true } : { ok: false, code: 'APIGW.0301', message: verdict.message };
}

function checkSignature(
  req: Request,
  lookupSecret: (accessKey: string) => string | undefined,
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
  return verifySignature({ method: req.method, url, headers: req.headers }, lookupSecret, nowMs);
}

function applyTerminalFault(fault: TerminalFault, { req, res, requestId, send, record }: Exchange): void {
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
