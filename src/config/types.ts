/** A stream/task pair to poll. */
export type Target = Readonly<{ stream: string; task: string }>;

/**
 * One entry of `targets`: a concrete pair, every dump task of a stream (`task: "*"`), or every task of
 * every stream (`stream: "*"`, `task: "*"`). `include`/`exclude` are regular-expression sources applied
 * to the discovered names: stream names for `stream: "*"`, task names for `task: "*"` with a concrete stream.
 */
export type TargetSelector = Readonly<{ stream: string; task: string; include?: string; exclude?: string }>;

/**
 * One entry of `apps`: a consumer app and a stream whose checkpoints to poll. `app: "*"` is every app DIS lists,
 * `stream: "*"` (or a left-out stream) every stream the app checkpoints.
 */
export type AppSelector = Readonly<{ app: string; stream: string }>;

/** Log levels pino accepts from the configuration. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The validated, frozen configuration the rest of the exporter sees. Durations are milliseconds. */
export type Config = Readonly<{
  server: Readonly<{ host: string; port: number; maxRequests: number }>;
  /** `configFile` "" = no web config: plain HTTP, no authentication. */
  web: Readonly<{ configFile: string }>;
  log: Readonly<{ level: LogLevel; format: 'json' | 'pretty' }>;
  /** `proxy` as configured ("" = none); `proxy` below is what requests follow. */
  dis: Readonly<{ endpoint: string; region: string; projectId: string; proxy: string }>;
  auth: AuthConfig;
  /** The proxy of DIS and IAM requests: `dis.proxy`, else the proxy environment (docs/configuration.md ("Proxies")). */
  proxy: ProxySettings;
  targets: readonly TargetSelector[];
  /** Consumer apps to poll (the single-project form); absent when none are configured. */
  apps?: readonly AppSelector[];
  /** Several projects (`projects`), each with its own endpoint, targets and maybe auth; absent with dis.projectId + targets. */
  projects?: readonly ProjectEntry[];
  poll: Readonly<{
    intervalMs: number;
    timeoutMs: number;
    concurrency: number;
    retries: number;
    staleAfterMs: number;
    /** Requests per second across all API calls; 0 = no limit. */
    maxRequestsPerSecond: number;
  }>;
  /** How often the list calls behind `*` targets run. */
  discovery: Readonly<{ intervalMs: number }>;
  lag: Readonly<{
    /** Fetch stream details once per cycle for lag in records. */
    records: boolean;
    /** No progress for this long while records wait = stalled; undefined: 3 × the deliver interval, else 5m. */
    stallAfterMs?: number;
  }>;
  /** This replica's shard; index in [0, total). With `fromHostname` the index was taken from the host name. */
  shard: Readonly<{ index: number; total: number; fromHostname: boolean }>;
  metrics: Readonly<{
    /** State sets (task and partition states, partition verdicts): every member with 0 or 1, or only the current one. */
    stateSets: StateSets;
  }>;
}>;

/** One entry of `projects` as configured: `auth` only when the project has its own. */
export type ProjectEntry = Readonly<{
  projectId: string;
  /** Base URL of the project's DIS API, without a path. */
  endpoint: string;
  region: string;
  targets: readonly TargetSelector[];
  /** Absent when the entry configures none. */
  apps?: readonly AppSelector[];
  auth?: Config['auth'];
}>;

/**
 * A project the exporter polls: one entry of `projects`, or the single project of `dis.projectId` and `targets`.
 * Everything past the configuration sees only these (config/projects.ts).
 */
export type Project = Readonly<{
  projectId: string;
  endpoint: string;
  region: string;
  targets: readonly TargetSelector[];
  /** Consumer apps to poll; empty when none are configured. */
  apps: readonly AppSelector[];
  /** What its requests authenticate with: its own `auth`, else the top-level one. */
  auth: Config['auth'];
  /** The key path of that `auth` section (`auth`, `projects[1].auth`), which problems with its credentials name. */
  authKey: string;
}>;

/** `metrics.stateSets`: one series per state (`all`), or only the current state's (`current`). */
export type StateSets = 'all' | 'current';

/** The `auth` section: one way to authenticate (credentials.ts resolves it). */
export type AuthConfig = Readonly<{
  accessKey: string;
  secretKey: string;
  securityToken: string;
  accessKeyFile: string;
  secretKeyFile: string;
  securityTokenFile: string;
  iam: IamAuthConfig;
  oidc: OidcAuthConfig;
  metadata: MetadataAuthConfig;
}>;

/** `auth.oidc`: a Kubernetes service-account JWT traded for an IAM token (CCE workload identity); "" when unused. */
export type OidcAuthConfig = Readonly<{
  /** Base URL of IAM, without a path. */
  endpoint: string;
  /** The id of the IAM identity provider that trusts the cluster. */
  idpId: string;
  /** The projected service-account token, read again for every exchange. */
  idTokenFile: string;
}>;

/** `auth.metadata`: temporary keys of the ECS/CCE agency from the metadata service. */
export type MetadataAuthConfig = Readonly<{ enabled: boolean; endpoint: string }>;

/**
 * The proxy of each kind of request URL ("" = none) and the NO_PROXY list of hosts reached directly; resolved from
 * `dis.proxy` and the environment when the configuration is loaded.
 */
export type ProxySettings = Readonly<{ httpsProxy: string; httpProxy: string; noProxy: string }>;

/** `auth.iam`: an IAM user whose password is traded for a token; every field is "" when IAM is not used. */
export type IamAuthConfig = Readonly<{
  /** Base URL of IAM, without a path. */
  endpoint: string;
  /** The account (domain) name the user belongs to. */
  domain: string;
  username: string;
  password: string;
  passwordFile: string;
}>;

/** The AK/SK (and, for a temporary AK/SK, its security token) a request is signed with. */
export type AccessKeyPair = Readonly<{ accessKey: string; secretKey: string; securityToken?: string }>;

/** AK/SK credentials resolved from inline values, environment or files: every request is signed with them. */
export type AkSkCredentials = AccessKeyPair & Readonly<{ kind: 'aksk' }>;

/** An IAM user's password, traded for a token scoped to `dis.projectId` that DIS requests carry as `X-Auth-Token`. */
export type IamPasswordCredentials = Readonly<{
  kind: 'iam';
  /** Base URL of IAM, without a path (the client adds `/v3/auth/tokens`). */
  endpoint: string;
  domain: string;
  username: string;
  password: string;
}>;

/** A service-account JWT traded for an IAM token scoped to the project (CCE workload identity). */
export type OidcCredentials = Readonly<{
  kind: 'oidc';
  /** Base URL of IAM, without a path (the client adds `/v3.0/OS-AUTH/id-token/tokens`). */
  endpoint: string;
  idpId: string;
  /** Read again for every exchange: Kubernetes rotates projected tokens. */
  idTokenFile: string;
}>;

/** Temporary AK/SK of the agency bound to this ECS or CCE node, fetched from its metadata service. */
export type MetadataCredentials = Readonly<{ kind: 'metadata'; endpoint: string }>;

/** What requests authenticate with, resolved from the config (and re-resolved on reload). */
export type Credentials = AkSkCredentials | IamPasswordCredentials | OidcCredentials | MetadataCredentials;

/** Credentials renewed while the exporter runs, and so with an expiry: the `method` label of the credential metrics. */
export type RenewedMethod = 'iam' | 'oidc' | 'metadata';
