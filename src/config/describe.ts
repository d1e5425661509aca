import { Document, isMap, isScalar, isSeq } from 'yaml';
import { formatDuration } from './duration.js';
import { redactProxyUrl } from './proxy.js';
import { isMapping, schemaLeaves } from './schema.js';
import type { Config } from './types.js';

const REDACTED = '[REDACTED]';

function toFileShape(config: Config): Record<string, unknown> {
  const { server, web, log, dis, auth, targets, poll, discovery, lag, shard, metrics } = config;
  return {
    server: { host: server.host, port: server.port, maxRequests: server.maxRequests },
    web: { configFile: web.configFile },
    log: { level: log.level, format: log.format },
    // The proxy's host helps a reader; its password, if it has one, is a secret.
    dis: { endpoint: dis.endpoint, region: dis.region, projectId: dis.projectId, proxy: redactProxyUrl(dis.proxy) },
    auth: { ...auth, iam: { ...auth.iam }, oidc: { ...auth.oidc }, metadata: { ...auth.metadata } },
    targets: targets.map(({ stream, task, include, exclude }) => ({
      stream,
      task,
      ...(include === undefined ? {} : { include }),
      ...(exclude === undefined ? {} : { exclude }),
    })),
    poll: {
      interval: formatDuration(poll.intervalMs),
      timeout: formatDuration(poll.timeoutMs),
      concurrency: poll.concurrency,
      retries: poll.retries,
      staleAfter: formatDuration(poll.staleAfterMs),
      maxRequestsPerSecond: poll.maxRequestsPerSecond,
    },
    discovery: { interval: formatDuration(discovery.intervalMs) },
    lag: {
      records: lag.records,
      stallAfter: lag.stallAfterMs === undefined ? '' : formatDuration(lag.stallAfterMs),
    },
    // The file leaves the index at 0 when it comes from the host name (a comment shows the derived one).
    shard: { index: shard.fromHostname ? 0 : shard.index, total: shard.total, fromHostname: shard.fromHostname },
    metrics: { stateSets: metrics.stateSets },
  };
}

function redact(shape: Record<string, unknown>, path: string): void {
  const segments = path.split('.');
  const key = segments.pop() ?? '';
  let parent: unknown = shape;
  for (const segment of segments) parent = isMapping(parent) ? parent[segment] : undefined;
  // An empty secret stays "", so the output still shows that none is set.
  if (isMapping(parent) && parent[key] !== '') parent[key] = REDACTED;
}

/** The effective configuration as YAML in the config file's shape, every secret set shown as `[REDACTED]`. */
export function describeConfig(config: Config): string {
  const shape = toFileShape(config);
  for (const leaf of schemaLeaves()) if (leaf.sensitive) redact(shape, leaf.path);
  const document = new Document(shape);
  const targets = document.get('targets', true);
  if (isSeq(targets)) for (const item of targets.items) if (isMap(item)) item.flow = true;
  const index = document.getIn(['shard', 'index'], true);
  if (config.shard.fromHostname && isScalar(index)) index.comment = ` ${config.shard.index}, from the host name`;
  return document.toString();
}
