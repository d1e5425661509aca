import { Document, isMap, isScalar, isSeq } from 'yaml';
import { formatDuration } from './duration.js';
import { redactProxyUrl } from './proxy.js';
import { isMapping, schemaLeaves } from './schema.js';
import type { AppSelector, Config, TargetSelector } from './types.js';

const REDACTED = '[REDACTED]';

function toFileShape(config: Config): Record<string, unknown> {
  const { server, web, log, dis, auth, targets, poll, discovery, lag, shard, metrics } = config;
  return {
    server: { host: server.host, port: server.port, maxRequests: server.maxRequests },
    web: { configFile: web.configFile },
    log: { level: log.level, format: log.format },
    // The proxy's host helps a reader; its password, if it has one, is a secret.
    dis: { endpoint: dis.endpoint, region: dis.region, projectId: dis.projectId, proxy: redactProxyUrl(dis.proxy) },
    // A copy to redact, whatever sections auth has.
    auth: structuredClone(auth),
    targets: targets.map(selectorShape),
    // Apps and projects only when used: most configurations have neither.
    ...(config.apps === undefined ? {} : { apps: config.apps.map(appShape) }),
    ...(config.projects === undefined
      ? {}
      : {
          projects: config.projects.map(({ projectId, endpoint, region, targets, apps, auth }) => ({
            projectId,
            endpoint,
            region,
            targets: targets.map(selectorShape),
            ...(apps === undefined ? {} : { apps: apps.map(appShape) }),
            // A copy to redact, whatever sections auth has.
            ...(auth === undefined ? {} : { auth: structuredClone(auth) }),
          })),
        }),
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

function selectorShape({ stream, task, include, exclude }: TargetSelector): Record<string, string> {
  return {
    stream,
    task,
    ...(include === undefined ? {} : { include }),
    ...(exclude === undefined ? {} : { exclude }),
  };
}

function appShape({ app, stream }: AppSelector): Record<string, string> {
  return { app, stream };
}

function redact(shape: Record<string, unknown>, path: string): void {
  const segments = path.split('.');
  const key = segments.pop() ?? '';
  let parent: unknown = shape;
  for (const segment of segments) parent = isMapping(parent) ? parent[segment] : undefined;
  // An empty secret stays "", so the output still shows that none is set.
  if (isMapping(parent) && parent[key] !== '') parent[key] = REDACTED;
}

/** Writes each mapping of a list (the targets, the apps) on one line. */
function flowItems(node: unknown): void {
  if (isSeq(node)) for (const item of node.items) if (isMap(item)) item.flow = true;
}

/** The effective configuration as YAML in the config file's shape, every secret set shown as `[REDACTED]`. */
export function describeConfig(config: Config): string {
  const shape = toFileShape(config);
  const secrets = schemaLeaves().filter((leaf) => leaf.sensitive);
  for (const leaf of secrets) redact(shape, leaf.path);
  // A project's own auth has the settings of the top-level one, secrets included.
  const projects = Array.isArray(shape['projects']) ? (shape['projects'] as Record<string, unknown>[]) : [];
  for (const project of projects)
    for (const leaf of secrets) if (leaf.path.startsWith('auth.')) redact(project, leaf.path);
  const document = new Document(shape);
  flowItems(document.get('targets', true));
  flowItems(document.get('apps', true));
  const projectItems = document.get('projects', true);
  if (isSeq(projectItems)) {
    for (const item of projectItems.items) {
      if (!isMap(item)) continue;
      flowItems(item.get('targets', true));
      flowItems(item.get('apps', true));
    }
  }
  const index = document.getIn(['shard', 'index'], true);
  if (config.shard.fromHostname && isScalar(index)) index.comment = ` ${config.shard.index}, from the host name`;
  return document.toString();
}
