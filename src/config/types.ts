/** A stream/task pair to poll. */
export type Target = Readonly<{ stream: string; task: string }>;

/** Log levels pino accepts from the configuration. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The validated, frozen configuration the rest of the exporter sees. Durations are milliseconds. */
export type Config = Readonly<{
  server: Readonly<{ host: string; port: number }>;
  log: Readonly<{ level: LogLevel; format: 'json' | 'pretty' }>;
  dis: Readonly<{ endpoint: string; region: string; projectId: string }>;
  auth: Readonly<{
    accessKey: string;
    secretKey: string;
    securityToken: string;
    accessKeyFile: string;
    secretKeyFile: string;
  }>;
  targets: readonly Target[];
  poll: Readonly<{
    intervalMs: number;
    timeoutMs: number;
    concurrency: number;
    retries: number;
    staleAfterMs: number;
  }>;
}>;

/** AK/SK credentials resolved from inline values, environment or files. */
export type Credentials = Readonly<{ accessKey: string; secretKey: string; securityToken?: string }>;
