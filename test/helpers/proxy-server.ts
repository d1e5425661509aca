import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** One request the proxy handled: a CONNECT tunnel, or an absolute-form request it forwarded. */
export type ProxiedRequest = Readonly<{
  kind: 'connect' | 'forward';
  /** `host:port` for CONNECT, the absolute URL for a forwarded request. */
  target: string;
  /** The Proxy-Authorization header it came with, if any. */
  proxyAuthorization: string | undefined;
}>;

/** A loopback HTTP proxy for tests: CONNECT tunnels and absolute-form requests, optionally asking for a login. */
export type TestProxy = Readonly<{
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), without credentials. */
  url: string;
  /** Every request it handled, oldest first. */
  requests: () => readonly ProxiedRequest[];
  /** How many connections clients opened to it. */
  connections: () => number;
  close: () => Promise<void>;
}>;

/**
 * Starts the proxy on a free loopback port. With `login` (`user:password`), a request without that Basic
 * Proxy-Authorization gets 407 and goes nowhere. With `tls`, clients talk to the proxy itself over TLS (an https://
 * proxy), with that certificate and key.
 */
export async function startTestProxy(
  login?: string,
  tls?: Readonly<{ cert: Buffer; key: Buffer }>,
): Promise<TestProxy> {
  const handled: ProxiedRequest[] = [];
  const expected = login === undefined ? undefined : `Basic ${Buffer.from(login).toString('base64')}`;
  const sockets = new Set<Socket>();
  let connections = 0;
  const allowed = (header: string | undefined): boolean => expected === undefined || header === expected;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    handled.push({ kind: 'forward', target: req.url ?? '', proxyAuthorization });
    if (!allowed(proxyAuthorization)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
  const server = tls === undefined ? createServer(forward) : createTlsServer(tls, forward);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    handled.push({ kind: 'connect', target: req.url ?? '', proxyAuthorization });
    if (!allowed(proxyAuthorization)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests: () => [...handled],
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
