import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

import {
  DEFAULT_AGENCY,
  DEFAULT_TOKEN_LIFETIME_MS,
  FAULT_KINDS,
  OPERATIONS,
  PARTITION_STATUSES,
  SESSION_TOKEN_MODES,
  type AgencySettings,
  type AppSpec,
  type AppStreamSpec,
  type Fault,
  type FaultKind,
  type IamSettings,
  type PartitionOverride,
  type PartitionSpec,
  type Scenario,
  type StreamSpec,
  type TaskSpec,
  type WireOverride,
} from './scenario-spec.js';

// The scenario types are this module's too: its users import them from here.
export * from './scenario-spec.js';

/** Default deliver interval, in seconds, when a destination has no `deliver_time_interval`. */
export const DEFAULT_DELIVER_INTERVAL_SECONDS = 60;

const DEFAULT_STREAM_AGE_MS = 7 * 86_400_000;
const DEFAULT_TASK_AGE_MS = 86_400_000;
const DEFAULT_RETENTION_HOURS = 24;
/** The real service caps a stream at 5 dump tasks (DIS.4357: docs/dis-api.md ("The codes")). */
export const MAX_TASKS_PER_STREAM = 5;
// DIS stream names: letters, digits, '-' and '_', 1-64 characters; app names the same, 1-200.
const STREAM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const APP_NAME_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;
/** Seconds between an app's checkpoint commits unless its scenario says otherwise. */
const DEFAULT_COMMIT_INTERVAL_SECONDS = 10;

/** Reads a YAML (or, by extension, JSON) scenario file; throws an Error with one line per problem. */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // The YAML parser's messages span several lines (with a code frame); the first says what and where.
    const firstLine = (error as Error).message.split('\n')[0] ?? '';
    throw new Error(`${path}: cannot parse: ${firstLine}`);
  }
  return parseScenario(data, path);
}

/** Validates scenario data and fills defaults; throws an Error with one `source: path: problem` line per problem. */
export function parseScenario(data: unknown, source = 'scenario'): Scenario {
  const v = new Validator();
  const scenario = v.scenario(data);
  v.throwIfProblems(source);
  return scenario;
}

/** Validates one fault (e.g. one added at runtime); throws like `parseScenario`. */
export function parseFault(data: unknown, source = 'fault'): Fault {
  const v = new Validator();
  const fault = v.fault(data, '');
  v.throwIfProblems(source);
  return fault;
}

/**
 * Validates a stream added at runtime; throws like `parseScenario`. Its time zero is the moment it is added: its
 * offsets grow from `initialRecords` then, every `...MsAgo` counts back from then, and `createdMsAgo` (of the
 * stream and of its tasks) defaults to 0.
 */
export function parseStreamInput(data: unknown, source = 'stream'): StreamSpec {
  const v = new Validator(true);
  const stream = v.stream(data, '');
  v.throwIfProblems(source);
  return stream;
}

/**
 * Validates a dump task added at runtime to stream `streamName` with partitions `partitionIds`; throws like
 * `parseScenario`. Its time zero is the moment it is added, and `createdMsAgo` defaults to 0 (created then).
 */
export function parseTaskInput(
  data: unknown,
  streamName: string,
  partitionIds: readonly string[],
  source = 'task',
): TaskSpec {
  const v = new Validator(true);
  const task = v.task(data, '', streamName, partitionIds);
  v.throwIfProblems(source);
  return task;
}

/** Path of a scenario bundled in `src/simulator/scenarios/` (e.g. `demo.yaml`), from the sources or from the build in `dist/`. */
export function bundledScenarioPath(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // tsc does not copy YAML into dist/, so the build (dist/src/simulator) reads the file from the source tree.
  const candidates = [
    joinPath(here, 'scenarios', name),
    joinPath(here, '..', '..', '..', 'src', 'simulator', 'scenarios', name),
  ];
  return candidates.find((candidate) => existsSync(candidate)) ?? (candidates[0] as string);
}

/**
 * The default partition id for a position: `shardId-` and the index zero-padded to 10 digits (docs/dis-api.md
 * ("Partition ids")).
 */
export function defaultPartitionId(index: number): string {
  return `shardId-${String(index).padStart(10, '0')}`;
}

type Obj = Record<string, unknown>;

/** Collects every problem instead of stopping at the first, so one run of a bad file shows all of them. */
class Validator {
  private readonly problems: string[] = [];

  /** `runtime`: validating something added while the simulator runs, which is created "now" by default. */
  constructor(private readonly runtime = false) {}

  throwIfProblems(source: string): void {
    if (this.problems.length > 0) {
      throw new Error(this.problems.map((problem) => `${source}: ${problem}`).join('\n'));
    }
  }

  scenario(data: unknown): Scenario {
    const root =
      this.object(data, '', [
        'projectId',
        'credentials',
        'iam',
        'agency',
        'epochMs',
        'seed',
        'streams',
        'apps',
        'faults',
      ]) ?? {};
    const projectId = this.string(root, '', 'projectId', { required: true }) ?? '';
    const credentials = this.array(root, '', 'credentials').map((item, i) => {
      const path = `credentials[${i}]`;
      const o = this.object(item, path, ['accessKey', 'secretKey', 'securityToken']) ?? {};
      const securityToken = this.string(o, path, 'securityToken', {});
      return {
        accessKey: this.string(o, path, 'accessKey', { required: true }) ?? '',
        secretKey: this.string(o, path, 'secretKey', { required: true }) ?? '',
        ...(securityToken === undefined ? {} : { securityToken }),
      };
    });
    this.unique(
      credentials.map((c) => c.accessKey),
      (i) => `credentials[${i}].accessKey`,
    );
    const iam = this.iam(root['iam']);
    const agency = root['agency'] === undefined ? undefined : this.agency(root['agency']);
    const epochMs = this.integer(root, '', 'epochMs', { min: 0 });
    const seed = this.integer(root, '', 'seed', {}) ?? 1;
    const streams = this.array(root, '', 'streams').map((item, i) => this.stream(item, `streams[${i}]`));
    this.unique(
      streams.map((s) => s.name),
      (i) => `streams[${i}].name`,
    );
    const apps = this.array(root, '', 'apps').map((item, i) => this.app(item, `apps[${i}]`));
    this.unique(
      apps.map((a) => a.name),
      (i) => `apps[${i}].name`,
    );
    const faults = this.array(root, '', 'faults').map((item, i) => this.fault(item, `faults[${i}]`));
    return {
      projectId,
      credentials,
      iam,
      ...(agency === undefined ? {} : { agency }),
      ...(epochMs === undefined ? {} : { epochMs }),
      seed,
      streams,
      apps,
      faults,
    };
  }

  private agency(data: unknown): AgencySettings {
    const o = this.object(data, 'agency', ['keyLifetimeMs', 'renewBeforeMs', 'sessionTokens']) ?? {};
    const keyLifetimeMs = this.integer(o, 'agency', 'keyLifetimeMs', { min: 1 }) ?? DEFAULT_AGENCY.keyLifetimeMs;
    const renewBeforeMs = this.integer(o, 'agency', 'renewBeforeMs', { min: 0 }) ?? DEFAULT_AGENCY.renewBeforeMs;
    if (renewBeforeMs >= keyLifetimeMs) this.problem('agency.renewBeforeMs', 'must be less than keyLifetimeMs');
    const sessionTokens =
      this.oneOf(o, 'agency', 'sessionTokens', SESSION_TOKEN_MODES, {}) ?? DEFAULT_AGENCY.sessionTokens;
    return { keyLifetimeMs, renewBeforeMs, sessionTokens };
  }

  private app(data: unknown, path: string): AppSpec {
    const o = this.object(data, path, ['name', 'id', 'createdMsAgo', 'listStreams', 'streams']) ?? {};
    const name =
      this.string(o, path, 'name', {
        required: true,
        pattern: APP_NAME_PATTERN,
        patternText: '1-200 letters, digits, "-" or "_"',
      }) ?? '';
    const streamsPath = join(path, 'streams');
    const rawStreams = o['streams'] === undefined ? {} : (this.object(o['streams'], streamsPath, undefined) ?? {});
    const streams: Record<string, AppStreamSpec> = {};
    for (const [stream, spec] of Object.entries(rawStreams)) {
      if (!STREAM_NAME_PATTERN.test(stream)) this.problem(`${streamsPath}.${stream}`, 'is not a stream name');
      streams[stream] = this.appStream(spec ?? {}, `${streamsPath}.${stream}`);
    }
    return {
      name,
      id: this.string(o, path, 'id', {}) ?? derivedId('app', name),
      createdMsAgo: this.integer(o, path, 'createdMsAgo', { min: 0 }) ?? DEFAULT_TASK_AGE_MS,
      listStreams: this.boolean(o, path, 'listStreams') ?? true,
      streams,
    };
  }

  private appStream(data: unknown, path: string): AppStreamSpec {
    const keys = ['checkpoint', 'behindRecords', 'readRecordsPerSecond', 'commitIntervalSeconds', 'wire'];
    const o = this.object(data, path, keys) ?? {};
    const readRecordsPerSecond = this.number(o, path, 'readRecordsPerSecond', { min: 0 });
    const wirePath = join(path, 'wire');
    const w = o['wire'] === undefined ? {} : (this.object(o['wire'], wirePath, ['partitionId', 'values']) ?? {});
    const partitionId = this.oneOf(w, wirePath, 'partitionId', ['index', 'number', 'shardId'] as const, {});
    const values = this.oneOf(w, wirePath, 'values', ['sdk', 'string', 'number'] as const, {});
    return {
      checkpoint: this.boolean(o, path, 'checkpoint') ?? true,
      behindRecords: this.integer(o, path, 'behindRecords', { min: 0 }) ?? 0,
      ...(readRecordsPerSecond === undefined ? {} : { readRecordsPerSecond }),
      commitIntervalSeconds:
        this.integer(o, path, 'commitIntervalSeconds', { min: 1 }) ?? DEFAULT_COMMIT_INTERVAL_SECONDS,
      wire: { partitionId: partitionId ?? 'index', values: values ?? 'sdk' },
    };
  }

  private iam(data: unknown): IamSettings {
    if (data === undefined) return { users: [], identityProviders: [], tokenLifetimeMs: DEFAULT_TOKEN_LIFETIME_MS };
    const o = this.object(data, 'iam', ['users', 'identityProviders', 'tokenLifetimeMs']) ?? {};
    const users = this.array(o, 'iam', 'users').map((item, i) => {
      const path = `iam.users[${i}]`;
      const u = this.object(item, path, ['domain', 'name', 'password']) ?? {};
      return {
        domain: this.string(u, path, 'domain', { required: true }) ?? '',
        name: this.string(u, path, 'name', { required: true }) ?? '',
        password: this.string(u, path, 'password', { required: true }) ?? '',
      };
    });
    this.unique(
      users.map((u) => `${u.domain}/${u.name}`),
      (i) => `iam.users[${i}].name`,
    );
    const identityProviders = this.array(o, 'iam', 'identityProviders').flatMap((item, i) => {
      if (typeof item === 'string' && item !== '') return [item];
      this.problem(`iam.identityProviders[${i}]`, 'must be a non-empty string');
      return [];
    });
    const tokenLifetimeMs = this.integer(o, 'iam', 'tokenLifetimeMs', { min: 1 }) ?? DEFAULT_TOKEN_LIFETIME_MS;
    return { users, identityProviders, tokenLifetimeMs };
  }

  fault(data: unknown, path: string): Fault {
    const keys = [
      'match',
      'kind',
      'latencyMs',
      'status',
      'body',
      'contentType',
      'bytes',
      'retryAfter',
      'probability',
      'times',
      'fromMs',
      'untilMs',
    ];
    const o = this.object(data, path, keys) ?? {};
    const kind = this.oneOf(o, path, 'kind', FAULT_KINDS, { required: true });
    let match: Fault['match'];
    if (o['match'] !== undefined) {
      const matchPath = join(path, 'match');
      const m = this.object(o['match'], matchPath, ['operation', 'stream', 'task']) ?? {};
      const operation = this.oneOf(m, matchPath, 'operation', OPERATIONS, {});
      const stream = this.string(m, matchPath, 'stream', {});
      const task = this.string(m, matchPath, 'task', {});
      match = {
        ...(operation === undefined ? {} : { operation }),
        ...(stream === undefined ? {} : { stream }),
        ...(task === undefined ? {} : { task }),
      };
    }
    const latencyMs = this.integer(o, path, 'latencyMs', { min: 0, required: kind === 'latency' });
    const status = this.integer(o, path, 'status', { min: 100, max: 599, required: kind === 'status' });
    let body: Fault['body'];
    const rawBody = o['body'];
    if (rawBody !== undefined) {
      if (typeof rawBody === 'string' || isObject(rawBody)) {
        body = rawBody;
      } else {
        this.problem(join(path, 'body'), 'must be a string or an object');
      }
    }
    this.onlyFor(o, path, kind, 'latencyMs', ['latency']);
    this.onlyFor(o, path, kind, 'status', ['status']);
    this.onlyFor(o, path, kind, 'body', ['status', 'malformed']);
    this.onlyFor(o, path, kind, 'contentType', ['status', 'malformed']);
    this.onlyFor(o, path, kind, 'bytes', ['oversized']);
    const contentType = this.string(o, path, 'contentType', {});
    const bytes = this.integer(o, path, 'bytes', { min: 1, required: kind === 'oversized' });
    this.onlyFor(o, path, kind, 'retryAfter', ['status']);
    const retryAfter =
      typeof o['retryAfter'] === 'number'
        ? this.integer(o, path, 'retryAfter', { min: 0 })?.toString()
        : this.string(o, path, 'retryAfter', {});
    const probability = this.number(o, path, 'probability', { min: 0, max: 1 });
    const times = this.integer(o, path, 'times', { min: 1 });
    const fromMs = this.integer(o, path, 'fromMs', { min: 0 });
    const untilMs = this.integer(o, path, 'untilMs', { min: 0 });
    if (fromMs !== undefined && untilMs !== undefined && untilMs <= fromMs) {
      this.problem(join(path, 'untilMs'), 'must be greater than fromMs');
    }
    const fault: Record<string, unknown> = { kind: kind ?? 'latency' };
    const optional = {
      match,
      latencyMs,
      status,
      body,
      contentType,
      bytes,
      retryAfter,
      probability,
      times,
      fromMs,
      untilMs,
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) fault[key] = value;
    }
    return fault as Fault;
  }

  stream(data: unknown, path: string): StreamSpec {
    const o =
      this.object(data, path, [
        'name',
        'id',
        'createdMsAgo',
        'retentionPeriodHours',
        'status',
        'partitions',
        'tasks',
        'wireOverride',
      ]) ?? {};
    const name =
      this.string(o, path, 'name', {
        required: true,
        pattern: STREAM_NAME_PATTERN,
        patternText: '1-64 letters, digits, "-" or "_"',
      }) ?? '';
    const id = this.string(o, path, 'id', {}) ?? derivedId('stream', name);
    const createdMsAgo =
      this.integer(o, path, 'createdMsAgo', { min: 0 }) ?? (this.runtime ? 0 : DEFAULT_STREAM_AGE_MS);
    const retentionPeriodHours = this.integer(o, path, 'retentionPeriodHours', { min: 1 }) ?? DEFAULT_RETENTION_HOURS;
    const status = this.string(o, path, 'status', {}) ?? 'RUNNING';
    const partitionItems = this.array(o, path, 'partitions', { required: true });
    if (o['partitions'] !== undefined && partitionItems.length === 0) {
      this.problem(join(path, 'partitions'), 'must have at least one partition');
    }
    const partitions = partitionItems.map((item, i) => this.partition(item, `${join(path, 'partitions')}[${i}]`, i));
    this.unique(
      partitions.map((p) => p.id),
      (i) => `${join(path, 'partitions')}[${i}].id`,
    );
    const taskItems = this.array(o, path, 'tasks');
    if (taskItems.length > MAX_TASKS_PER_STREAM) {
      this.problem(join(path, 'tasks'), `must have at most ${MAX_TASKS_PER_STREAM} tasks (the DIS quota)`);
    }
    const partitionIds = partitions.map((p) => p.id);
    const tasks = taskItems.map((item, i) => this.task(item, `${join(path, 'tasks')}[${i}]`, name, partitionIds));
    this.unique(
      tasks.map((t) => t.name),
      (i) => `${join(path, 'tasks')}[${i}].name`,
    );
    const wireOverride = this.wireOverride(o, path);
    return {
      name,
      id,
      createdMsAgo,
      retentionPeriodHours,
      status,
      partitions,
      tasks,
      ...(wireOverride === undefined ? {} : { wireOverride }),
    };
  }

  private partition(data: unknown, path: string, index: number): PartitionSpec {
    const keys = ['id', 'startOffset', 'initialRecords', 'recordsPerSecond', 'status', 'expiresMsAgo', 'rangeOverride'];
    const o = this.object(data, path, keys) ?? {};
    const id = this.string(o, path, 'id', {}) ?? defaultPartitionId(index);
    const startOffset = this.integer(o, path, 'startOffset', { min: 0 }) ?? 0;
    const initialRecords = this.integer(o, path, 'initialRecords', { min: 0 }) ?? 0;
    const recordsPerSecond = this.number(o, path, 'recordsPerSecond', { min: 0 }) ?? 0;
    const status = this.oneOf(o, path, 'status', PARTITION_STATUSES, {}) ?? 'ACTIVE';
    const expiresMsAgo = this.integer(o, path, 'expiresMsAgo', {});
    if (startOffset > initialRecords) {
      this.problem(join(path, 'startOffset'), 'must not exceed initialRecords');
    }
    if (expiresMsAgo !== undefined && status === 'EXPIRED') {
      this.problem(join(path, 'expiresMsAgo'), 'does not apply to a partition whose status is EXPIRED');
    }
    const rangeOverride = o['rangeOverride'];
    if (rangeOverride !== undefined && rangeOverride !== null && typeof rangeOverride !== 'string') {
      this.problem(join(path, 'rangeOverride'), 'must be a string or null');
    }
    return {
      id,
      startOffset,
      initialRecords,
      recordsPerSecond,
      status,
      ...(expiresMsAgo === undefined ? {} : { expiresMsAgo }),
      ...(rangeOverride === null || typeof rangeOverride === 'string' ? { rangeOverride } : {}),
    };
  }

  task(data: unknown, path: string, streamName: string, partitionIds: readonly string[]): TaskSpec {
    const keys = [
      'name',
      'id',
      'destinationType',
      'destination',
      'correctSpelling',
      'state',
      'stateSinceMsAgo',
      'createdMsAgo',
      'partitions',
      'wireOverride',
    ];
    const o = this.object(data, path, keys) ?? {};
    const name = this.string(o, path, 'name', { required: true }) ?? '';
    const id = this.string(o, path, 'id', {}) ?? derivedId('task', `${streamName}/${name}`);
    const destinationType = this.string(o, path, 'destinationType', { required: true }) ?? '';
    const destination =
      o['destination'] === undefined ? {} : (this.object(o['destination'], join(path, 'destination'), undefined) ?? {});
    const interval = destination['deliver_time_interval'];
    let deliverIntervalSeconds = DEFAULT_DELIVER_INTERVAL_SECONDS;
    if (interval !== undefined) {
      if (typeof interval === 'number' && Number.isInteger(interval) && interval > 0) {
        deliverIntervalSeconds = interval;
      } else {
        this.problem(join(path, 'destination.deliver_time_interval'), 'must be a positive integer (seconds)');
      }
    }
    const correctSpelling = this.boolean(o, path, 'correctSpelling') ?? false;
    const state = this.string(o, path, 'state', {}) ?? 'RUNNING';
    const stateSinceMsAgo = this.integer(o, path, 'stateSinceMsAgo', { min: 0 }) ?? 0;
    const createdMsAgo = this.integer(o, path, 'createdMsAgo', { min: 0 }) ?? (this.runtime ? 0 : DEFAULT_TASK_AGE_MS);
    const overridesPath = join(path, 'partitions');
    const rawOverrides =
      o['partitions'] === undefined ? {} : (this.object(o['partitions'], overridesPath, undefined) ?? {});
    for (const key of Object.keys(rawOverrides)) {
      if (!partitionIds.includes(key)) {
        this.problem(`${overridesPath}.${key}`, 'is not a partition of the stream');
      }
    }
    const partitions: Record<string, PartitionOverride> = {};
    for (const partitionId of partitionIds) {
      partitions[partitionId] = this.override(rawOverrides[partitionId], `${overridesPath}.${partitionId}`);
    }
    const wireOverride = this.wireOverride(o, path);
    return {
      name,
      id,
      destinationType,
      destination,
      correctSpelling,
      state,
      stateSinceMsAgo,
      createdMsAgo,
      deliverIntervalSeconds,
      partitions,
      ...(wireOverride === undefined ? {} : { wireOverride }),
    };
  }

  private override(data: unknown, path: string): PartitionOverride {
    if (data === undefined) {
      return { discard: 0, discardPerSecond: 0, stalled: false, behindRecords: 0, sinceMsAgo: 0 };
    }
    const keys = [
      'state',
      'discard',
      'discardPerSecond',
      'stalled',
      'behindRecords',
      'sinceMsAgo',
      'dumpRecordsPerSecond',
      'wireOverride',
    ];
    const o = this.object(data, path, keys) ?? {};
    const state = this.string(o, path, 'state', {});
    const override = {
      discard: this.integer(o, path, 'discard', { min: 0 }) ?? 0,
      discardPerSecond: this.number(o, path, 'discardPerSecond', { min: 0 }) ?? 0,
      stalled: this.boolean(o, path, 'stalled') ?? false,
      behindRecords: this.integer(o, path, 'behindRecords', { min: 0 }) ?? 0,
      sinceMsAgo: this.integer(o, path, 'sinceMsAgo', { min: 0 }) ?? 0,
    };
    const dumpRecordsPerSecond = this.number(o, path, 'dumpRecordsPerSecond', { min: 0 });
    const wireOverride = this.wireOverride(o, path);
    return {
      ...(state === undefined ? {} : { state }),
      ...override,
      ...(dumpRecordsPerSecond === undefined ? {} : { dumpRecordsPerSecond }),
      ...(wireOverride === undefined ? {} : { wireOverride }),
    };
  }

  /** An optional `wireOverride`: any object, kept as given. */
  private wireOverride(o: Obj, path: string): WireOverride | undefined {
    if (o['wireOverride'] === undefined) return undefined;
    return this.object(o['wireOverride'], join(path, 'wireOverride'), undefined);
  }

  private problem(path: string, what: string): void {
    this.problems.push(path === '' ? what : `${path}: ${what}`);
  }

  private object(data: unknown, path: string, allowed: readonly string[] | undefined): Obj | undefined {
    if (!isObject(data)) {
      this.problem(path, 'must be an object');
      return undefined;
    }
    if (allowed !== undefined) {
      for (const key of Object.keys(data)) {
        if (!allowed.includes(key)) this.problem(join(path, key), 'unknown key');
      }
    }
    return data;
  }

  private array(o: Obj, path: string, key: string, options: { required?: boolean } = {}): unknown[] {
    const value = o[key];
    if (value === undefined) {
      if (options.required === true) this.problem(join(path, key), 'is required');
      return [];
    }
    if (!Array.isArray(value)) {
      this.problem(join(path, key), 'must be a list');
      return [];
    }
    return value;
  }

  private string(
    o: Obj,
    path: string,
    key: string,
    options: { required?: boolean; pattern?: RegExp; patternText?: string },
  ): string | undefined {
    const value = o[key];
    if (value === undefined) {
      if (options.required === true) this.problem(join(path, key), 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.problem(join(path, key), 'must be a non-empty string');
      return undefined;
    }
    if (options.pattern !== undefined && !options.pattern.test(value)) {
      this.problem(join(path, key), `must be ${options.patternText ?? `like ${options.pattern.source}`}`);
      return undefined;
    }
    return value;
  }

  private oneOf<T extends string>(
    o: Obj,
    path: string,
    key: string,
    allowed: readonly T[],
    options: { required?: boolean },
  ): T | undefined {
    const value = o[key];
    if (value === undefined) {
      if (options.required === true) this.problem(join(path, key), 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.problem(join(path, key), `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  private number(
    o: Obj,
    path: string,
    key: string,
    options: { min?: number; max?: number; required?: boolean; integer?: boolean },
  ): number | undefined {
    const value = o[key];
    if (value === undefined) {
      if (options.required === true) this.problem(join(path, key), 'is required');
      return undefined;
    }
    const kind = options.integer === true ? 'an integer' : 'a number';
    const bad =
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (options.integer === true && !Number.isSafeInteger(value)) ||
      (options.min !== undefined && value < options.min) ||
      (options.max !== undefined && value > options.max);
    if (bad) {
      const range =
        options.min !== undefined && options.max !== undefined
          ? ` from ${options.min} to ${options.max}`
          : options.min !== undefined
            ? ` >= ${options.min}`
            : '';
      this.problem(join(path, key), `must be ${kind}${range}`);
      return undefined;
    }
    return value;
  }

  private integer(
    o: Obj,
    path: string,
    key: string,
    options: { min?: number; max?: number; required?: boolean },
  ): number | undefined {
    return this.number(o, path, key, { ...options, integer: true });
  }

  private boolean(o: Obj, path: string, key: string): boolean | undefined {
    const value = o[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.problem(join(path, key), 'must be true or false');
      return undefined;
    }
    return value;
  }

  private onlyFor(o: Obj, path: string, kind: FaultKind | undefined, key: string, kinds: readonly FaultKind[]): void {
    if (kind !== undefined && o[key] !== undefined && !kinds.includes(kind)) {
      this.problem(join(path, key), `only applies to kind ${kinds.join(' or ')}`);
    }
  }

  private unique(values: readonly string[], pathOf: (index: number) => string): void {
    const seen = new Set<string>();
    values.forEach((value, i) => {
      if (value === '') return;
      if (seen.has(value)) this.problem(pathOf(i), `duplicate "${value}"`);
      seen.add(value);
    });
  }
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A stable 19-character id shaped like the real ones (e.g. `As805BudhcH1lDs6gbn`), so outputs are deterministic. */
function derivedId(kind: string, name: string): string {
  // FNV-1a over the name, expanded with a linear congruential step: no crypto needed, only stability.
  let hash = 0x811c9dc5;
  for (const char of `${kind}:${name}`) {
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  }
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 19; i += 1) {
    hash = (Math.imul(hash, 1_664_525) + 1_013_904_223) >>> 0;
    id += alphabet[hash % alphabet.length];
  }
  return id;
}
