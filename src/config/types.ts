/** A stream/task pair to poll. */
export type Target = Readonly<{ stream: string; task: string }>;

/**
 * One entry of `targets`: a concrete pair, every dump task of a stream (`task: "*"`), or every task of
 * every stream (`stream: "*"`, `task: "*"`). `include`/`exclude` are regular-expression sources applied
 * to the discovered names: stream names for `stream: "*"`, task names for `task: "*"` with a concrete stream.
 */
export type TargetSelector = Readonly<{ stream: string; task: string; include?: string; exclude?: string }>;

/** Log levels pino accepts from the configuration. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The validated, frozen configuration the rest of the exporter sees. Durations are milliseconds. */
export type Config = Readonly<{
  server: Readonly<{ host: string; port: number; maxRequests: number }>;
  /** `configFile` "" = no web config: plain HTTP, no authentication. */
  web: Readonly<{ configFile: string }>;
  log: Readonly<{ level: LogLevel; format: 'json' | 'pretty' }>;
  dis: Readonly<{ endpoint: string; region: string; projectId: string }>;
  auth: Readonly<{
    accessKey: string;
    secretKey: string;
    securityToken: string;
    accessKeyFile: string;
    secretKeyFile: string;
  }>;
  targets: readonly TargetSelector[];
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

/** `metrics.stateSets`: one series per state (`all`), or only the current state's (`current`). */
export type StateSets = 'all' | 'current';

/** AK/SK credentials resolved from inline values, environment or files. */
export type Credentials = Readonly<{ accessKey: string; secretKey: string; securityToken?: string }>;
