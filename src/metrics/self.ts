import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RenewedMethod } from '../config/types.js';
import type { ApiRequestEvent } from '../dis/client.js';
import type { Shard } from '../poll/shard.js';
import { SELF_METRICS } from './names.js';

/** Where the client and the poller report what they did. */
export interface SelfMetrics {
  recordApiRequest(event: ApiRequestEvent): void;
  recordPollCycle(durationSeconds: number): void;
  recordPollOverrun(): void;
  /** A configuration reload that was applied (with when) or rejected. */
  recordConfigReload(successful: boolean, atMs: number): void;
  /** The shard a reload moved this replica to. */
  setShard(shard: Shard): void;
  /**
   * The method of the credentials each project's requests use now, by project ID (undefined: a static AK/SK, which
   * never expires): the credential series of a project's former method, or of a project no longer listed, go, and the
   * failure counter of a new method starts at 0.
   */
  setCredentialsMethods(methods: ReadonlyMap<string, RenewedMethod | undefined>): void;
  /** A project's token or temporary keys obtained, expiring at `expiresAtMs`. */
  recordCredentialsObtained(projectId: string, method: RenewedMethod, expiresAtMs: number): void;
  /** A failed request for a project's token or temporary keys. */
  recordCredentialsRefreshFailure(projectId: string, method: RenewedMethod): void;
}

/** Version facts for dis_exporter_build_info. */
export type BuildInfo = Readonly<{ version: string; revision: string; nodejsVersion: string }>;

const API_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const POLL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Registers the long-lived self-metric instruments on `registry`; the configuration was loaded at `configLoadedAtMs`. */
export function registerSelfMetrics(
  registry: Registry,
  build: BuildInfo,
  shard: Shard,
  configLoadedAtMs: number,
): SelfMetrics {
  const requests = new Counter({
    ...SELF_METRICS.apiRequests,
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
  const requestDuration = new Histogram({
    ...SELF_METRICS.apiRequestDuration,
    labelNames: ['operation'],
    buckets: API_BUCKETS,
    registers: [registry],
  });
  const pollDuration = new Histogram({ ...SELF_METRICS.pollDuration, buckets: POLL_BUCKETS, registers: [registry] });
  const pollOverruns = new Counter({ ...SELF_METRICS.pollOverruns, registers: [registry] });
  const buildInfo = new Gauge({
    ...SELF_METRICS.buildInfo,
    labelNames: ['version', 'revision', 'nodejs_version'],
    registers: [registry],
  });
  buildInfo.set({ version: build.version, revision: build.revision, nodejs_version: build.nodejsVersion }, 1);
  const shardInfo = new Gauge({ ...SELF_METRICS.shardInfo, labelNames: ['index', 'total'], registers: [registry] });
  const setShard = ({ index, total }: Shard): void => {
    shardInfo.reset();
    shardInfo.set({ index: String(index), total: String(total) }, 1);
  };
  setShard(shard);
  const reloadSuccessful = new Gauge({ ...SELF_METRICS.configReloadSuccessful, registers: [registry] });
  reloadSuccessful.set(1);
  const reloadSuccessTimestamp = new Gauge({ ...SELF_METRICS.configReloadSuccessTimestamp, registers: [registry] });
  reloadSuccessTimestamp.set(configLoadedAtMs / 1000);

  const credentialsExpiry = new Gauge({
    ...SELF_METRICS.credentialsExpiry,
    labelNames: ['project_id', 'method'],
    registers: [registry],
  });
  const credentialsFailures = new Counter({
    ...SELF_METRICS.credentialsRefreshFailures,
    labelNames: ['project_id', 'method'],
    registers: [registry],
  });
  let credentialMethods: ReadonlyMap<string, RenewedMethod | undefined> = new Map();

  // Every DIS request is recorded: the labelled children are looked up once per (operation, code), not per request.
  const requestCounters = new Map<string, { inc(): void }>();
  const durationHistograms = new Map<string, { observe(value: number): void }>();
  return {
    recordApiRequest({ operation, code, durationSeconds }) {
      const key = `${operation} ${code}`;
      let counter = requestCounters.get(key);
      if (counter === undefined) {
        counter = requests.labels({ operation, code });
        requestCounters.set(key, counter);
      }
      counter.inc();
      let histogram = durationHistograms.get(operation);
      if (histogram === undefined) {
        histogram = requestDuration.labels({ operation });
        durationHistograms.set(operation, histogram);
      }
      histogram.observe(durationSeconds);
    },
    recordPollCycle(durationSeconds) {
      pollDuration.observe(durationSeconds);
    },
    recordPollOverrun() {
      pollOverruns.inc();
    },
    recordConfigReload(successful, atMs) {
      reloadSuccessful.set(successful ? 1 : 0);
      if (successful) reloadSuccessTimestamp.set(atMs / 1000);
    },
    setShard,
    setCredentialsMethods(methods) {
      for (const [projectId, was] of credentialMethods) {
        if (was === undefined || methods.get(projectId) === was) continue;
        credentialsExpiry.remove({ project_id: projectId, method: was });
        credentialsFailures.remove({ project_id: projectId, method: was });
      }
      // From 0, so that the first failure shows in increase() and rate().
      for (const [projectId, method] of methods) {
        if (method !== undefined) credentialsFailures.inc({ project_id: projectId, method }, 0);
      }
      credentialMethods = new Map(methods);
    },
    recordCredentialsObtained(projectId, method, expiresAtMs) {
      credentialsExpiry.set({ project_id: projectId, method }, expiresAtMs / 1000);
    },
    recordCredentialsRefreshFailure(projectId, method) {
      credentialsFailures.inc({ project_id: projectId, method });
    },
  };
}
