import http from 'node:http';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/** What Node's http.Agent calls with each request before it is sent (not in @types/node, used by every proxy agent). */
type AddRequest = (request: http.ClientRequest, options: http.ClientRequestArgs) => void;

/**
 * An agent that sends http:// requests to a forward proxy in absolute form (RFC 9112 §3.2.2: `GET http://host/path`),
 * with the proxy's login in `Proxy-Authorization`, over keep-alive connections to the proxy shared by every target
 * (bounded by `maxSockets`). https:// requests need a CONNECT tunnel instead: https-proxy-agent.
 *
 * Not http-proxy-agent: its 9.1.0 regenerates the request header once the connection is up, which writes the header
 * of a request whose body was already queued (a POST, such as an IAM token request) a second time after the body
 * (docs/configuration.md ("Proxies")).
 */
export class ForwardProxyAgent extends http.Agent {
  private readonly proxy: URL;
  private readonly authorization: string | undefined;

  /** `proxy` without user and password; `authorization` the whole Proxy-Authorization value, if one is needed. */
  constructor(proxy: URL, authorization: string | undefined, options: http.AgentOptions) {
    super(options);
    this.proxy = proxy;
    this.authorization = authorization;
  }

  /**
   * Called by http.ClientRequest with every request, before its header is written (Node's agent API, which every
   * proxy agent builds on; @types/node leaves it out): the request line becomes absolute, and the connection, and so
   * the pool of sockets, the proxy's, whatever the target.
   */
  addRequest(request: http.ClientRequest, options: http.ClientRequestArgs): void {
    const host = request.getHeader('host');
    request.path = `http://${typeof host === 'string' ? host : String(options.host)}${request.path}`;
    if (this.authorization !== undefined) request.setHeader('proxy-authorization', this.authorization);
    const addRequest = (http.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;
    addRequest.call(this, request, { ...options, host: this.proxy.hostname, port: this.proxyPort() });
  }

  private proxyPort(): number {
    if (this.proxy.port !== '') return Number(this.proxy.port);
    return this.proxy.protocol === 'https:' ? 443 : 80;
  }

  /** A connection to the proxy: TCP, or TLS for an https:// proxy. */
  override createConnection(): Duplex {
    const host = this.proxy.hostname.replace(/^\[|\]$/g, '');
    const port = this.proxyPort();
    if (this.proxy.protocol !== 'https:') return netConnect({ host, port });
    return tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}) });
  }
}
