import http from 'node:http';
import https from 'node:https';
import got, { RequestError, type Got, type PlainResponse, type Request } from 'got';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Clock } from '../clock.js';
import { startStopwatch } from '../clock.js';
import type { AccessKeyPair, ProxySettings } from '../config/types.js';
import { DisRequestError, DisResponseError } from './errors.js';
import { ForwardProxyAgent } from './forward-proxy-agent.js';
import type { Operation } from './operations.js';
import { proxyFor } from './proxy-route.js';
import { signRequest } from './signer.js';

/** One HTTP request sent to DIS or IAM, as reported to the self-metrics: `code` is the HTTP status or `error`. */
export type ApiRequestEvent = Readonly<{ operation: Operation; code: string; durationSeconds: number }>;

/** One request to send: the URL, what error messages show of it, its headers and body, and the AK/SK to sign it with. */
export type Outgoing = Readonly<{
  operation: Operation;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** The path (or, for IAM, the URL) messages name. */
  path: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
  signWith?: AccessKeyPair;
}>;

/** A response whose body was read (undefined: larger than the cap), or the error of a request that got none. */
export type Sent =
  { ok: true; response: PlainResponse; body: string | undefined } | { ok: false; error: DisRequestError };

/** The limits of a transport that a reload may change. */
export type TransportLimits = Readonly<{
  /** The whole exchange, up to the body's last byte. */
  timeoutMs: number;
  /** Keep-alive sockets per host at most. */
  maxSockets: number;
}>;

/** What the transport is built from. */
export type TransportOptions = TransportLimits &
  Readonly<{
    userAgent: string;
    /** The clock the AK/SK signature is dated by. */
    clock: Clock;
    /** The largest response body read, decompressed. */
    maxBodyBytes: number;
    /** Called once per request sent, with its status (or `error`) and duration. */
    onRequest?: (event: ApiRequestEvent) => void;
    /** Where requests go through a proxy (proxy-route.ts); omitted: every request goes straight to its host. */
    proxy?: ProxySettings;
  }>;

/** Sends one HTTP request at a time and reads its answer; knows nothing of retries, paging or what DIS answered. */
export interface Transport {
  /**
   * Sends the request and reads the answer (any status), or resolves with the DisRequestError of a request that got
   * no whole response (a timeout, a connection, DNS or TLS failure). Rejects with the signal's reason once it aborts.
   */
  send(outgoing: Outgoing, signal: AbortSignal | undefined): Promise<Sent>;
  /** The error of an answer to `request` (`GET /v2/...`) whose body exceeded the cap. */
  tooLarge(request: string): DisResponseError;
  /** Applies new limits to the requests that start from now on (a reload). */
  reconfigure(limits: TransportLimits): void;
  /** Frees the keep-alive sockets. */
  close(): void;
}

/** The got context key of the AK/SK the signing hook signs a request with; requests without one are not signed. */
const SIGN_WITH = 'disSignWith';

function isAccessKeyPair(value: unknown): value is AccessKeyPair {
  return typeof value === 'object' && value !== null && 'accessKey' in value && 'secretKey' in value;
}

/** The agents of one route (straight to the host, or through one proxy): one for http:// URLs, one for https://. */
type Agents = { http: http.Agent; https: https.Agent };

/**
 * The agents of a proxy: absolute-form requests for http:// URLs (forward-proxy-agent.ts), a CONNECT tunnel for
 * https:// ones (https-proxy-agent), both keeping their sockets alive and bounded like the direct ones. The agents
 * get the proxy's URL without its user and password, which go only into the Proxy-Authorization header:
 * https-proxy-agent prints the URL in its debug output.
 */
function proxyAgents(proxy: string, options: http.AgentOptions): Agents {
  const url = new URL(proxy);
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const login = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(login).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  return {
    http: new ForwardProxyAgent(url, headers['Proxy-Authorization'], options),
    // An http.Agent subclass (agent-base) that hands node:https a TLS socket through the tunnel; got's type asks
    // for an https.Agent, whose extra members node:https never reads from an agent it is given.
    https: new HttpsProxyAgent(url, { ...options, headers }) as unknown as https.Agent,
  };
}

/** The agents of every route used so far, by proxy URL ("" = direct), created on first use. */
class AgentPool {
  private readonly routes = new Map<string, Agents>();
  /** The route of each origin requested so far: NO_PROXY is matched once per origin, not per request. */
  private readonly proxyOfOrigin = new Map<string, string>();
  private maxSockets: number;

  constructor(
    maxSockets: number,
    private readonly proxy: ProxySettings | undefined,
  ) {
    this.maxSockets = maxSockets;
  }

  /** The agents a request to `url` goes through. */
  forUrl(url: string): Agents {
    const parsed = new URL(url);
    let proxy = this.proxyOfOrigin.get(parsed.origin);
    if (proxy === undefined) {
      proxy = this.proxy === undefined ? '' : (proxyFor(parsed, this.proxy) ?? '');
      this.proxyOfOrigin.set(parsed.origin, proxy);
    }
    let agents = this.routes.get(proxy);
    if (agents === undefined) {
      const options = { keepAlive: true, maxSockets: this.maxSockets };
      agents =
        proxy === '' ? { http: new http.Agent(options), https: new https.Agent(options) } : proxyAgents(proxy, options);
      this.routes.set(proxy, agents);
    }
    return agents;
  }

  setMaxSockets(maxSockets: number): void {
    this.maxSockets = maxSockets;
    for (const agents of this.routes.values()) {
      agents.http.maxSockets = maxSockets;
      agents.https.maxSockets = maxSockets;
    }
  }

  destroy(): void {
    for (const agents of this.routes.values()) {
      agents.http.destroy();
      agents.https.destroy();
    }
  }
}

/**
 * Creates the transport: got over keep-alive agents (through a proxy where `proxy` says so), AK/SK signing in a
 * beforeRequest hook, one timer per exchange, the body cap, and the request self-metric.
 */
export function createTransport(options: TransportOptions): Transport {
  const agents = new AgentPool(options.maxSockets, options.proxy);
  const client = createGot(options.userAgent, options.clock);
  const { maxBodyBytes } = options;
  let { timeoutMs } = options;

  // got's stream API, not its promise: the promise buffers the whole body before we could look at its size.
  async function send(outgoing: Outgoing, signal: AbortSignal | undefined): Promise<Sent> {
    const requestTimeoutMs = timeoutMs;
    const elapsed = startStopwatch();
    // The caller's signal is not handed to got, which never removes its 'abort' listener from a signal: on the
    // poller's long-lived one that would pile up a listener (holding the request) per request. An abort destroys
    // the stream instead, through a listener that lives only while this request runs.
    const stream = client.stream(outgoing.url, {
      agent: agents.forUrl(outgoing.url),
      method: outgoing.method,
      headers: outgoing.headers,
      ...(outgoing.body === undefined ? {} : { body: outgoing.body }),
      context: outgoing.signWith === undefined ? {} : { [SIGN_WITH]: outgoing.signWith },
    });
    const onAbort = (): void => {
      stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // One timer for the whole exchange, up to the body's last byte; got's own timeout machinery (per-phase timers
    // and listeners) costs more per request than the rest of this function.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stream.destroy(new Error(`no response within ${requestTimeoutMs} ms`));
    }, requestTimeoutMs);
    let sent: Sent & { ok: true };
    try {
      sent = await receive(stream, maxBodyBytes);
    } catch (error) {
      options.onRequest?.({ operation: outgoing.operation, code: 'error', durationSeconds: elapsed() });
      if (signal?.aborted) throw signal.reason;
      return {
        ok: false,
        error: toRequestError(error, outgoing.method, outgoing.path, timedOut ? requestTimeoutMs : undefined),
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    options.onRequest?.({
      operation: outgoing.operation,
      code: String(sent.response.statusCode),
      durationSeconds: elapsed(),
    });
    return sent;
  }

  return {
    send,
    tooLarge: (request) =>
      new DisResponseError('', `response body larger than ${maxBodyBytes} bytes`).forRequest(request),
    reconfigure(limits) {
      timeoutMs = limits.timeoutMs;
      agents.setMaxSockets(limits.maxSockets);
    },
    close() {
      agents.destroy();
    },
  };
}

/**
 * The got instance: our headers, no retries, redirects or HTTP errors of its own, and the signing hook; each request
 * names its agents.
 */
function createGot(userAgent: string, clock: Clock): Got {
  return got.extend({
    headers: { 'user-agent': userAgent, accept: 'application/json' },
    // Retries are the client's (retry-policy.ts): got's would hide each attempt from the request self-metrics and
    // ignore our clock.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    hooks: {
      beforeRequest: [
        (request) => {
          const keys = request.context[SIGN_WITH];
          if (!isAccessKeyPair(keys)) return;
          const url = request.url instanceof URL ? request.url : new URL(String(request.url));
          const signed = signRequest({ method: request.method, url, headers: request.headers }, keys, clock.now());
          for (const [name, value] of Object.entries(signed)) request.headers[name.toLowerCase()] = value;
        },
      ],
    },
  });
}

/**
 * What a got stream brings: its response and the body as UTF-8 text (undefined, the socket destroyed, as soon as
 * the body is known to exceed `maxBytes`), or its error. Plain listeners rather than async iteration: this runs for
 * every request, and the iterator's promises and buffers cost more than the rest of reading a small body.
 */
function receive(stream: Request, maxBytes: number): Promise<Sent & { ok: true }> {
  return new Promise((resolve, reject) => {
    let response: PlainResponse | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      // Destroying the stream also closes its socket: the rest is never downloaded.
      stream.destroy();
      if (response !== undefined) resolve({ ok: true, response, body: undefined });
    };
    // The listener stays after the promise settled: an abort after the body ended errors the finished stream, and
    // an 'error' without a listener would crash the process.
    stream.on('error', reject);
    stream.once('response', (received: PlainResponse) => {
      response = received;
      // Content-Length counts the bytes on the wire, before decompression, so it can only say "too large" early.
      if (Number(received.headers['content-length']) > maxBytes) tooLarge();
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge();
      else chunks.push(chunk);
    });
    stream.once('end', () => {
      if (response === undefined) reject(new Error('the response ended before its headers'));
      else resolve({ ok: true, response, body: Buffer.concat(chunks, size).toString('utf8') });
    });
  });
}

/** The error of a request that got no whole response; `timedOutAfterMs` when the transport's timer ended it. */
function toRequestError(
  error: unknown,
  method: string,
  path: string,
  timedOutAfterMs: number | undefined,
): DisRequestError {
  if (timedOutAfterMs !== undefined) {
    return new DisRequestError({
      method,
      path,
      reason: 'timeout',
      detail: `no response within ${timedOutAfterMs} ms`,
      cause: error,
    });
  }
  const code = error instanceof RequestError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new DisRequestError({
    method,
    path,
    reason: 'network',
    detail: code === undefined ? message : `${code}: ${message}`,
    cause: error,
  });
}
