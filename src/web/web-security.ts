import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config/config-error.js';
import { BasicAuth, type PasswordState } from './basic-auth.js';
import { BcryptWorkers } from './bcrypt-workers.js';
import { loadWebConfig, loadWebConfigAsync, type LoadedWebConfig } from './load-web-config.js';
import { PasswordChecks, type PasswordVerifier } from './password-checks.js';
import { createRequestRateLimit, type RequestRateLimit } from './request-rate-limit.js';
import { securityHeaders } from './security-headers.js';
import { createTlsServer, type TlsServer } from './tls-server.js';
import { VerifiedLogins } from './verified-logins.js';
import { OPEN_WEB_CONFIG, type WebConfig } from './web-config.js';

/** The paths Kubernetes probes: never behind basic auth or the rate limit, and they tell nothing but their status. */
export const PROBE_PATHS: readonly string[] = ['/-/healthy', '/-/ready'];

/** The realm of the WWW-Authenticate challenge. */
export const AUTH_REALM = 'dis-exporter';

/** Seconds a client refused because too many password checks wait is told to wait (Retry-After). */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** What WebSecurity needs besides the web config. */
export type WebSecurityDeps = Readonly<{
  clock: Clock;
  logger: Logger;
  /** Replaces the bcrypt workers (tests count the comparisons). */
  verify?: PasswordVerifier;
}>;

type Active = Readonly<{
  config: WebConfig;
  auth: BasicAuth;
  headers: Readonly<Record<string, string>>;
  rateLimit?: RequestRateLimit;
}>;

/**
 * The web config in force (TLS, basic auth, headers, rate limit) and what applies it: the HTTP(S) server and the
 * express middleware. A reload checks a new file first (`prepareReload`) and then replaces the config in one step.
 */
export class WebSecurity {
  readonly #deps: WebSecurityDeps;
  /** bcrypt runs here unless `deps.verify` replaces it; started on the first comparison. */
  readonly #workers: BcryptWorkers;
  /** Kept across reloads: a login verified before is let in at once after a reload that keeps its hash. */
  readonly #passwords: PasswordState;
  #loaded: LoadedWebConfig | undefined;
  #active: Active;
  #tlsServer: TlsServer | undefined;

  /** `loaded` undefined = no web config file: plain HTTP, no authentication. */
  constructor(loaded: LoadedWebConfig | undefined, deps: WebSecurityDeps) {
    this.#deps = deps;
    this.#workers = new BcryptWorkers({
      onWorkerError: (error) =>
        deps.logger.error({ error: error.message }, 'password check worker failed; its check was refused'),
    });
    this.#passwords = {
      verified: new VerifiedLogins(),
      checks: new PasswordChecks(deps.verify ?? this.#workers.verify),
    };
    this.#loaded = loaded;
    this.#active = this.#activate(loaded);
  }

  /** Loads `file` ("" = none); throws ConfigError (one line per problem) like loadWebConfig. */
  static load(file: string, deps: WebSecurityDeps): WebSecurity {
    return new WebSecurity(file === '' ? undefined : loadWebConfig(file), deps);
  }

  /** Whether the server speaks HTTPS. */
  get tls(): boolean {
    return this.#loaded?.material !== undefined;
  }

  /** The web config file in force, or "" for none. */
  get file(): string {
    return this.#loaded?.file ?? '';
  }

  /** The server `app` is served by: HTTPS with the web config's certificate, else plain HTTP; `options` go to both. */
  createServer(app: RequestListener, options: ServerOptions = {}): Server {
    const tls = this.#loaded?.config.tls;
    const material = this.#loaded?.material;
    if (tls === undefined || material === undefined) return createHttpServer(options, app);
    this.#tlsServer = createTlsServer(
      app,
      { tls, material },
      {
        clock: this.#deps.clock,
        logger: this.#deps.logger,
      },
      options,
    );
    return this.#tlsServer.server;
  }

  /** Stops the password check workers. */
  close(): Promise<void> {
    return this.#workers.close();
  }

  /** Express middleware that puts the security headers on every answer. */
  headers(): RequestHandler {
    return (_req, res, next) => {
      res.set(this.#active.headers);
      next();
    };
  }

  /**
   * Express middleware for every request but the probes: the rate limit (429), then basic auth (401 with a Basic
   * challenge when the credentials are missing or wrong; 503 with Retry-After, at once, when too many password checks
   * wait: see PasswordChecks).
   */
  guard(): RequestHandler {
    return (req, res, next) => {
      const active = this.#active;
      if (PROBE_PATHS.includes(req.path)) {
        next();
        return;
      }
      if (active.rateLimit !== undefined && !active.rateLimit.tryTake()) {
        res.status(429).type('text/plain').send('too many requests\n');
        return;
      }
      if (!active.auth.enabled) {
        next();
        return;
      }
      active.auth.check(req.get('authorization'), req.socket.remoteAddress ?? '').then(
        (outcome) => {
          if (outcome === 'ok') next();
          else if (outcome === 'busy') {
            res
              .status(503)
              .set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS))
              .type('text/plain')
              .send('too many password checks waiting; try again later\n');
          } else {
            res
              .status(401)
              .set('WWW-Authenticate', `Basic realm="${AUTH_REALM}"`)
              .type('text/plain')
              .send('unauthorized\n');
          }
        },
        (error: unknown) => next(error),
      );
    };
  }

  /**
   * Reads and checks a web config file for a reload (`file`, "" for none) and returns what puts it in force in one
   * step: new connections get its TLS settings and certificate, requests its users, headers and rate limit. Throws
   * ConfigError (one line per problem) and changes nothing when the file has a problem or would turn TLS on or off,
   * which needs a restart (the listening socket would change). The files are read without blocking the event loop.
   */
  async prepareReload(file: string): Promise<() => void> {
    const loaded = file === '' ? undefined : await loadWebConfigAsync(file);
    if ((loaded?.material !== undefined) !== this.tls) {
      throw new ConfigError([
        `web.configFile ${file === '' ? '""' : file}: tls_server_config: turning TLS ${
          this.tls ? 'off' : 'on'
        } needs a restart`,
      ]);
    }
    const active = this.#activate(loaded);
    return () => {
      if (loaded?.config.tls !== undefined && loaded.material !== undefined) {
        this.#tlsServer?.replace(loaded.config.tls, loaded.material);
      }
      this.#loaded = loaded;
      this.#active = active;
    };
  }

  #activate(loaded: LoadedWebConfig | undefined): Active {
    const config = loaded?.config ?? OPEN_WEB_CONFIG;
    const limit = config.rateLimit;
    return {
      config,
      auth: new BasicAuth(config.basicAuthUsers, this.#passwords),
      headers: securityHeaders(config.headers, loaded?.material !== undefined),
      ...(limit === undefined
        ? {}
        : { rateLimit: createRequestRateLimit(limit.intervalMs, limit.burst, this.#deps.clock) }),
    };
  }
}
