import { setMaxListeners } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { startStopwatch } from '../clock.js';
import { describeSelector } from '../config/targets.js';
import type { AppSelector, Target, TargetSelector } from '../config/types.js';
import type { CallOptions, DisClient } from '../dis/client.js';
import type { AppListing, DumpTask, StreamDetails } from '../dis/types.js';
import { appPairs } from './app-pairs.js';
import { appKey, listAppsOf, pollApp } from './app-poll.js';
import { mapWithConcurrency } from './concurrency.js';
import { discover, isWildcard, uniqueTargets } from './discovery.js';
import { lagRecords } from './lag-and-staleness.js';
import { FIELD_ISSUE_MESSAGE, isReported, newFieldIssues, recordFailure, toTargetError } from './poll-failures.js';
import { ownedAppPairs, ownedTargets, type Shard } from './shard.js';
import {
  streamKey,
  type AppStatus,
  type DiscoveryStatus,
  type SnapshotStore,
  type StreamStatus,
  type TargetStatus,
} from './store.js';
import { advanceTrack, isPausedState, type PartitionTrack } from './verdict.js';

/** A project as the poller sees it: what to poll in it, and the client (its own endpoint, token, API budget) to use. */
export type PollProject = Readonly<{
  projectId: string;
  selectors: readonly TargetSelector[];
  /** Its consumer apps (docs/configuration.md ("Consumer apps")); absent or empty: no app call at all. */
  apps?: readonly AppSelector[];
  client: DisClient;
}>;

/** The poller's settings that a reload may change (see Poller.reconfigure). */
export type PollerSettings = Readonly<{
  projects: readonly PollProject[];
  shard: Shard;
  intervalMs: number;
  /** Requests in flight at most, per project. */
  concurrency: number;
  discoveryIntervalMs: number;
  /** Fetch stream details each cycle (streams of polled tasks and apps), for lag in records, verdicts, stream health. */
  lagRecords: boolean;
}>;

/** What the poller needs; the clock and the random source are injected so tests drive them. */
export type PollerOptions = PollerSettings &
  Readonly<{
    store: SnapshotStore;
    clock: Clock;
    logger: Logger;
    /**
     * Where discovery lines go, `logger` by default: a child of `logger` would repeat its `component` key (pino
     * writes both), so the app gives one of its own.
     */
    discoveryLogger?: Logger;
    /** Uniform [0, 1) source for the interval jitter. */
    random?: () => number;
    /** Called after every finished cycle with its duration. */
    onCycle?: (durationSeconds: number) => void;
    /** Called after a cycle that took longer than the interval (the next one starts late), with how many in a row. */
    onOverrun?: (durationSeconds: number, inARow: number) => void;
  }>;

/** Share of the interval by which each wait is randomly lengthened or shortened, so replicas drift apart. */
const JITTER_RATIO = 0.05;

/** Targets processed between two yields to the event loop when a cycle's results are put together. */
const YIELD_EVERY = 1000;

/** What one project's part of a cycle gave. */
type ProjectPoll = Readonly<{ targets: TargetStatus[]; streams: StreamStatus[]; apps: AppStatus[] }>;

/** The previous cycle's statuses, by targetKey, streamKey and appKey. */
type Previous = Readonly<{
  targets: ReadonlyMap<string, TargetStatus>;
  streams: ReadonlyMap<string, StreamStatus>;
  apps: ReadonlyMap<string, AppStatus>;
}>;

/**
 * Polls every target of every project once per interval and swaps the results into the store as one snapshot. Each
 * project is polled with its own client and its own `concurrency`, all projects at once, so that one whose API is slow
 * or failing holds up no other.
 */
export class Poller {
  #options: PollerOptions;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  /** Aborted to cut the wait for the next cycle short: by stop(), or by a reload that changes the interval. */
  #wake = new AbortController();
  /** The targets the latest discovery found for each wildcard selector, by discoveryKey. */
  #discovered = new Map<string, readonly Target[]>();
  /** The latest app listing of each project with apps, by project ID. */
  #appListings = new Map<string, AppListing>();
  #lastDiscoveryMs: number | undefined;
  #loop: Promise<void> | undefined;
  #alive = false;
  /** Cycles in a row that overran the interval. */
  #overruns = 0;

  constructor(options: PollerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    // Every request in flight (up to poll.concurrency) and every wait listens for the stop: not a leak, so no
    // MaxListenersExceededWarning past 10.
    setMaxListeners(0, this.#abort.signal);
  }

  /** Starts the loop: a first cycle at once, then one per interval; never two at a time. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#alive = true;
    this.#loop = this.#run().finally(() => {
      this.#alive = false;
    });
  }

  /** Whether the loop is running (for `/-/healthy`). */
  isAlive(): boolean {
    return this.#alive;
  }

  /** Stops polling: aborts in-flight requests and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('poller stopped'));
    this.#wake.abort();
    await this.#loop;
  }

  /**
   * Takes new settings (a reload) for the next cycle; a cycle under way finishes with the old ones. A new interval
   * counts from the start of the last cycle, so a shorter one can start the next cycle at once. A changed selector
   * list is discovered afresh at the next cycle; until then, and where that discovery fails, a selector that was
   * already configured keeps what it found before.
   */
  reconfigure(settings: PollerSettings): void {
    const previous = this.#options;
    this.#options = { ...previous, ...settings };
    if (!isDeepStrictEqual(selectorsByProject(settings.projects), selectorsByProject(previous.projects))) {
      const kept = new Set(
        settings.projects.flatMap(({ projectId, selectors }) => selectors.map((s) => discoveryKey(projectId, s))),
      );
      for (const key of this.#discovered.keys()) if (!kept.has(key)) this.#discovered.delete(key);
      const withApps = new Set(settings.projects.filter(hasApps).map(({ projectId }) => projectId));
      for (const projectId of this.#appListings.keys())
        if (!withApps.has(projectId)) this.#appListings.delete(projectId);
      this.#lastDiscoveryMs = undefined;
    }
    if (settings.intervalMs !== previous.intervalMs) this.#wake.abort();
  }

  /**
   * Discovers when due, polls every owned target and its streams (bounded concurrency), replaces the snapshot.
   * Retries are budgeted: none is attempted whose back-off would end after the interval, when the next cycle is due.
   */
  async runCycle(): Promise<void> {
    const { projects, store, clock, intervalMs } = this.#options;
    const elapsed = startStopwatch();
    const startedMs = clock.now();
    const call: CallOptions = { deadlineMs: startedMs + intervalMs };
    const previous = store.current();
    const discovery = await this.#discoverIfDue(previous.discovery, call);
    if (this.#abort.signal.aborted) return;

    const before: Previous = {
      targets: new Map(previous.targets.map((status) => [targetKey(status.projectId, status.target), status])),
      streams: new Map(previous.streams.map((status) => [streamKey(status.projectId, status.stream), status])),
      apps: new Map((previous.apps ?? []).map((status) => [appKey(status.projectId, status.pair), status])),
    };
    const cycleStartMs = clock.now();
    const polled = await Promise.all(projects.map((project) => this.#pollProject(project, before, call)));
    if (this.#abort.signal.aborted) return;
    const now = clock.now();
    const fresh = (lastSuccessMs: number | undefined): boolean =>
      lastSuccessMs !== undefined && lastSuccessMs >= cycleStartMs;
    const streams = polled.flatMap((part) => part.streams);
    const freshStreams = new Map(
      streams
        .filter((s) => s.details !== undefined && fresh(s.lastSuccessMs))
        .map((s) => [streamKey(s.projectId, s.stream), s.details!]),
    );
    const statuses = polled.flatMap((part) => part.targets);
    for (let i = 0; i < statuses.length; i++) {
      const status = statuses[i]!;
      if (status.up && fresh(status.lastSuccessMs)) {
        statuses[i] = withTracks(status, freshStreams.get(streamKey(status.projectId, status.target.stream)));
      }
      // Thousands of targets take long enough to delay a scrape; let timers and I/O in now and then.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.#abort.signal.aborted) return;
    store.replace({
      cyclesCompleted: previous.cyclesCompleted + 1,
      lastCycleEndMs: now,
      targets: statuses,
      streams,
      ...(projects.some(hasApps) ? { apps: polled.flatMap((part) => part.apps) } : {}),
      ...(discovery === undefined ? {} : { discovery }),
    });
    this.#options.onCycle?.(elapsed());
    const tookMs = clock.now() - startedMs;
    this.#overruns = tookMs > intervalMs ? this.#overruns + 1 : 0;
    if (this.#overruns > 0) this.#options.onOverrun?.(tookMs / 1000, this.#overruns);
  }

  /**
   * Polls one project's owned targets, its owned app/stream pairs and their streams with its client, `concurrency`
   * requests at most: one queue, so apps share the cycle's budget and deadline with the dump tasks.
   */
  async #pollProject(project: PollProject, previous: Previous, call: CallOptions): Promise<ProjectPoll> {
    const { concurrency, lagRecords } = this.#options;
    const { projectId } = project;
    const targets = this.#currentTargets(project);
    const pairs = this.#currentAppPairs(project);
    const streamNames = lagRecords
      ? [...new Set([...targets.map((target) => target.stream), ...pairs.map((pair) => pair.stream)])]
      : [];
    type Job =
      { kind: 'target'; target: Target } | { kind: 'stream'; stream: string } | { kind: 'app'; pair: AppSelector };
    const jobs: Job[] = [
      ...targets.map((target): Job => ({ kind: 'target', target })),
      ...streamNames.map((stream): Job => ({ kind: 'stream', stream })),
      ...pairs.map((pair): Job => ({ kind: 'app', pair })),
    ];
    const results = await mapWithConcurrency<Job, TargetStatus | StreamStatus | AppStatus>(jobs, concurrency, (job) => {
      switch (job.kind) {
        case 'target':
          return this.#pollTarget(project, job.target, previous.targets.get(targetKey(projectId, job.target)), call);
        case 'stream':
          return this.#pollStream(project, job.stream, previous.streams.get(streamKey(projectId, job.stream)), call);
        case 'app':
          return pollApp(job.pair, previous.apps.get(appKey(projectId, job.pair)), {
            projectId,
            client: project.client,
            clock: this.#options.clock,
            logger: this.#options.logger,
            signal: this.#abort.signal,
            call,
            appId: this.#appListings.get(projectId)?.apps.find(({ appName }) => appName === job.pair.app)?.appId,
          });
      }
    });
    const streamsEnd = targets.length + streamNames.length;
    return {
      targets: results.slice(0, targets.length) as TargetStatus[],
      streams: results.slice(targets.length, streamsEnd) as StreamStatus[],
      apps: results.slice(streamsEnd) as AppStatus[],
    };
  }

  /** The app/stream pairs of a project this replica owns: its selectors resolved by its latest app listing. */
  #currentAppPairs(project: PollProject): AppSelector[] {
    if (!hasApps(project)) return [];
    const listing = this.#appListings.get(project.projectId);
    return ownedAppPairs(project.projectId, appPairs(project.apps ?? [], listing?.apps), this.#options.shard);
  }

  /** The targets of a project this replica owns: configured pairs and the latest discovery, filtered by shard. */
  #currentTargets(project: PollProject): Target[] {
    const { shard } = this.#options;
    const { projectId, selectors } = project;
    const all = selectors.map((s) =>
      isWildcard(s) ? (this.#discovered.get(discoveryKey(projectId, s)) ?? []) : [{ stream: s.stream, task: s.task }],
    );
    return ownedTargets(projectId, uniqueTargets(all), shard);
  }

  /**
   * Lists the streams and tasks behind every project's wildcard selectors, and the apps of every project with apps,
   * when discovery is due (each project with its own client, all at once), and returns the discovery status across
   * them. A project's app listing is kept until a later one succeeds.
   */
  async #discoverIfDue(previous: DiscoveryStatus | undefined, call: CallOptions): Promise<DiscoveryStatus | undefined> {
    const { clock, discoveryIntervalMs, projects, concurrency, logger } = this.#options;
    const wildcards = projects.filter(({ selectors }) => selectors.some(isWildcard));
    const appProjects = projects.filter(hasApps);
    if (wildcards.length === 0 && appProjects.length === 0) return undefined;
    const startedMs = clock.now();
    if (this.#lastDiscoveryMs !== undefined && startedMs - this.#lastDiscoveryMs < discoveryIntervalMs) return previous;
    this.#lastDiscoveryMs = startedMs;
    const signal = this.#abort.signal;
    const [results, listings] = await Promise.all([
      Promise.all(
        wildcards.map(({ projectId, selectors, client }) => {
          const found = selectors.map((s) => this.#discovered.get(discoveryKey(projectId, s)) ?? []);
          return discover(selectors, found, client, { concurrency, signal, call });
        }),
      ),
      Promise.all(appProjects.map(({ client }) => listAppsOf(client, signal, call))),
    ]);
    // A reload during the discovery may have dropped some of these selectors: keep only those still configured.
    const configured = new Set(
      this.#options.projects.flatMap(({ projectId, selectors }) => selectors.map((s) => discoveryKey(projectId, s))),
    );
    const failures: { projectId: string; error: unknown }[] = [];
    let discoveredTargets = 0;
    wildcards.forEach(({ projectId, selectors }, p) => {
      const result = results[p]!;
      selectors.forEach((selector, index) => {
        const key = discoveryKey(projectId, selector);
        if (isWildcard(selector) && configured.has(key)) this.#discovered.set(key, result.perSelector[index] ?? []);
      });
      discoveredTargets += uniqueTargets(result.perSelector).length;
      failures.push(...result.failures.map(({ error }) => ({ projectId, error })));
    });
    const log = this.#options.discoveryLogger ?? logger;
    let listedApps = 0;
    appProjects.forEach(({ projectId }, p) => {
      const listed = listings[p]!;
      if ('error' in listed) {
        failures.push({ projectId, error: listed.error });
        return;
      }
      const { listing } = listed;
      for (const { field, problem } of newFieldIssues(
        this.#appListings.get(projectId)?.fieldIssues,
        listing.fieldIssues,
      )) {
        log.warn({ projectId, field, problem }, FIELD_ISSUE_MESSAGE);
      }
      // A reload during the listing may have dropped the project's apps.
      if (this.#options.projects.some((project) => project.projectId === projectId && hasApps(project))) {
        this.#appListings.set(projectId, listing);
      }
      listedApps += listing.apps.length;
    });
    const now = clock.now();
    const wasFailing = previous?.lastError !== undefined;
    const lastSuccess = previous?.lastSuccessMs === undefined ? {} : { lastSuccessMs: previous.lastSuccessMs };
    if (failures.length === 0) {
      if (wasFailing) log.info('discovery recovered');
      log.debug({ targets: discoveredTargets, apps: listedApps }, 'discovery finished');
      return { errors: previous?.errors ?? 0, lastSuccessMs: now };
    }
    const firstFailure = failures[0]!;
    const lastError = toTargetError(firstFailure.error, now);
    if ((!wasFailing || previous?.lastError?.reason !== lastError.reason) && !isReported(firstFailure.error)) {
      const fields = {
        projectId: firstFailure.projectId,
        reason: lastError.reason,
        error: lastError.message,
        failures: failures.length,
      };
      log.warn(fields, 'discovery failed');
    }
    return { errors: (previous?.errors ?? 0) + failures.length, ...lastSuccess, lastError };
  }

  async #run(): Promise<void> {
    const { clock, logger } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const startedMs = clock.now();
      try {
        await this.runCycle();
      } catch (error) {
        // Stopping aborts a discovery under way, which ends the cycle here: no bug.
        if (signal.aborted) break;
        // runCycle turns every DIS failure into data; reaching here is a bug, and the loop must outlive it.
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'poll cycle failed');
      }
      await this.#waitForNextCycle(startedMs, (this.#random() * 2 - 1) * JITTER_RATIO);
    }
  }

  /** Sleeps until one interval (± jitter) after `startedMs`; a reload that changes the interval starts it over. */
  async #waitForNextCycle(startedMs: number, jitterRatio: number): Promise<void> {
    const { clock } = this.#options;
    while (!this.#abort.signal.aborted) {
      const { intervalMs } = this.#options;
      const waitMs = Math.max(0, startedMs + intervalMs + jitterRatio * intervalMs - clock.now());
      try {
        await clock.sleep(Math.round(waitMs), this.#wake.signal);
        return;
      } catch {
        // stopped (the loop ends) or a new interval (the wait is worked out again)
        this.#wake = new AbortController();
      }
    }
  }

  async #pollTarget(
    project: PollProject,
    target: Target,
    previous: TargetStatus | undefined,
    call: CallOptions,
  ): Promise<TargetStatus> {
    const { clock, logger } = this.#options;
    const { projectId, client } = project;
    const elapsed = startStopwatch();
    // Made only when there is something to log: a child logger serializes its bindings, and most polls log nothing.
    const log = (): Logger => logger.child({ projectId, stream: target.stream, task: target.task });
    try {
      const task = await client.getDumpTask(target.stream, target.task, this.#abort.signal, call);
      const now = clock.now();
      if (previous !== undefined && !previous.up && previous.lastPollMs !== undefined) {
        log().info({ durationSeconds: elapsed() }, 'target recovered');
      }
      for (const { field, problem } of newFieldIssues(previous?.task?.fieldIssues, task.fieldIssues)) {
        log().warn({ field, problem }, FIELD_ISSUE_MESSAGE);
      }
      return {
        projectId,
        target,
        up: true,
        lastPollMs: now,
        lastDurationSeconds: elapsed(),
        lastSuccessMs: now,
        task,
        errors: previous?.errors ?? {},
        ...(previous?.lastError === undefined ? {} : { lastError: previous.lastError }),
        ...(previous?.tracks === undefined ? {} : { tracks: previous.tracks }),
      };
    } catch (error) {
      // Stopping aborts the polls in flight: no failure of the target, and runCycle drops this cycle's results.
      if (this.#abort.signal.aborted) return previous ?? { projectId, target, up: false, errors: {} };
      const now = clock.now();
      const { lastError, errors } = recordFailure(previous, error, now, log, 'poll failed', {
        durationSeconds: elapsed(),
      });
      const keep = lastError.reason !== 'not_found';
      return {
        projectId,
        target,
        up: false,
        lastPollMs: now,
        lastDurationSeconds: elapsed(),
        ...(previous?.lastSuccessMs === undefined ? {} : { lastSuccessMs: previous.lastSuccessMs }),
        lastError,
        ...(keep && previous?.task !== undefined ? { task: previous.task } : {}),
        ...(keep && previous?.tracks !== undefined ? { tracks: previous.tracks } : {}),
        errors,
      };
    }
  }

  async #pollStream(
    project: PollProject,
    stream: string,
    previous: StreamStatus | undefined,
    call: CallOptions,
  ): Promise<StreamStatus> {
    const { clock, logger } = this.#options;
    const { projectId, client } = project;
    try {
      const details = await client.getStream(stream, this.#abort.signal, call);
      if (previous?.lastError !== undefined) logger.info({ projectId, stream }, 'stream details recovered');
      for (const { field, problem } of newFieldIssues(previous?.details?.fieldIssues, details.fieldIssues)) {
        logger.warn({ projectId, stream, field, problem }, FIELD_ISSUE_MESSAGE);
      }
      return { projectId, stream, details, lastSuccessMs: clock.now() };
    } catch (error) {
      if (this.#abort.signal.aborted) return previous ?? { projectId, stream };
      const lastError = toTargetError(error, clock.now());
      if (previous?.lastError?.reason !== lastError.reason && !isReported(error)) {
        const fields = { projectId, stream, reason: lastError.reason, error: lastError.message };
        logger.warn(fields, 'stream details failed');
      }
      const keep = lastError.reason !== 'not_found' && previous?.details !== undefined;
      return {
        projectId,
        stream,
        ...(keep ? { details: previous.details } : {}),
        ...(previous?.lastSuccessMs === undefined ? {} : { lastSuccessMs: previous.lastSuccessMs }),
        lastError,
      };
    }
  }
}

/** A target's identity: its project, stream and task (names hold no "/"). */
function targetKey(projectId: string, target: Target): string {
  return `${projectId}/${target.stream}/${target.task}`;
}

/** A wildcard selector's identity in what discovery found: its project, pair and filters. */
function discoveryKey(projectId: string, selector: TargetSelector): string {
  return `${projectId} ${describeSelector(selector)}`;
}

/** The selectors and apps of each project, by project ID: what a reload must change for discovery to start afresh. */
function selectorsByProject(
  projects: readonly PollProject[],
): Record<string, { selectors: readonly TargetSelector[]; apps: readonly AppSelector[] }> {
  return Object.fromEntries(
    projects.map(({ projectId, selectors, apps }) => [projectId, { selectors, apps: apps ?? [] }]),
  );
}

/** Whether a project has consumer apps to poll (which also need its app listing). */
function hasApps(project: PollProject): boolean {
  return (project.apps?.length ?? 0) > 0;
}

/**
 * Advances each partition's track with this cycle's task details and stream details (both fresh);
 * partitions that no longer join lose their track.
 */
function withTracks(status: TargetStatus, stream: StreamDetails | undefined): TargetStatus {
  if (status.task === undefined || stream === undefined || status.lastSuccessMs === undefined) return status;
  const tracks = observePartitions(status.task, stream, status.tracks ?? {}, status.lastSuccessMs);
  const { tracks: _old, ...rest } = status;
  return Object.keys(tracks).length === 0 ? rest : { ...rest, tracks };
}

function observePartitions(
  task: DumpTask,
  stream: StreamDetails,
  previous: Readonly<Record<string, PartitionTrack>>,
  now: number,
): Record<string, PartitionTrack> {
  const ranges = new Map(stream.partitions.map((p) => [p.partitionId, p]));
  const paused = isPausedState(task.state);
  const tracks: Record<string, PartitionTrack> = {};
  for (const partition of task.partitions) {
    const offset = partition.lastTransferOffset;
    const waiting = lagRecords(ranges.get(partition.partitionId), offset);
    if (offset === undefined || waiting === undefined) continue;
    tracks[partition.partitionId] = advanceTrack(previous[partition.partitionId], {
      atMs: now,
      offset,
      lagRecords: waiting,
      ...(paused ? { paused } : {}),
    });
  }
  return tracks;
}
