/** The toolkit's client certificate policies (Go's tls.ClientAuthType names). */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;

/** How the server asks for and checks client certificates. */
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** A PEM text given inline in the web config, or a file holding it (re-read when it changes). */
export type PemSource = Readonly<{ file: string } | { inline: string }>;

/** `tls_server_config`, validated; versions and ciphers already in Node's terms. */
export type TlsServerConfig = Readonly<{
  cert: PemSource;
  key: PemSource;
  clientCa?: PemSource;
  clientAuthType: ClientAuthType;
  /** A client certificate must carry one of these SANs (DNS name, IP address, e-mail or URI). */
  clientAllowedSans?: readonly string[];
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2 and lower) from `cipher_suites`; undefined = Node's default. */
  ciphers?: string;
  /** The server's cipher order wins (`prefer_server_cipher_suites`). */
  honorCipherOrder: boolean;
  /** OpenSSL group list from `curve_preferences`; undefined = Node's default. */
  ecdhCurve?: string;
}>;

/** The web config file (Prometheus exporter-toolkit format), validated. */
export type WebConfig = Readonly<{
  /** HTTPS when set. */
  tls?: TlsServerConfig;
  /** `http_server_config.headers`: extra response headers; "" removes a header the exporter sends by default. */
  headers: Readonly<Record<string, string>>;
  /** User → bcrypt hash; empty = no basic auth. */
  basicAuthUsers: ReadonlyMap<string, string>;
  /** `rate_limit`: a token bucket over all requests; undefined = no limit. */
  rateLimit?: Readonly<{ intervalMs: number; burst: number }>;
}>;

/** The web config when there is no file: plain HTTP, no authentication. */
export const OPEN_WEB_CONFIG: WebConfig = Object.freeze({
  headers: Object.freeze({}),
  basicAuthUsers: new Map<string, string>(),
});
