import { readdirSync, readFileSync } from 'node:fs';
import { AssertionError } from 'chai';
import fc from 'fast-check';
import { jsonLimitProblem } from '../../src/dis/bounded-json.js';
import { DisResponseError } from '../../src/dis/errors.js';
import {
  parseDumpTask,
  parseDumpTaskList,
  parseErrorBody,
  parseJsonBody,
  parseSequenceRange,
  parseStreamDetailsPage,
  parseStreamNamesPage,
} from '../../src/dis/parse.js';
import { parseAppsPage, parseConsumerStatePage } from '../../src/dis/parse-apps.js';
import { EARLIEST_PLAUSIBLE_MS, MAX_AHEAD_MS } from '../../src/dis/plausible-timestamp.js';

// Property tests of src/dis/parse.ts and parse-apps.ts: whatever a body holds, every parser returns a value of its documented shape
// or throws a DisResponseError, never a TypeError or anything else. The seed is fixed so CI is repeatable;
// PROPERTY_SEED=<n> explores other inputs, and a failure prints the seed and path that replay it.

const SEED = process.env.PROPERTY_SEED === undefined ? 42 : Number(process.env.PROPERTY_SEED);
const RUNS = 1500;
/** A DisResponseError quotes at most a short part of the body: its message stays this short whatever the body. */
const MAX_MESSAGE_CHARS = 250;
/** `task_name`, `partitions[3].partitionId`, `obs_destination_description.deliver_time_interval`: a path, not data. */
const FIELD_PATH = /^[A-Za-z_]+(\[\d+\])?(\.[A-Za-z_]+)?$/;
/** The poll time the parsers judge timestamps by. */
const NOW = Date.UTC(2024, 0, 2);
/** A field issue's path: a key, a partition by index or by its id (at most 40 characters and a "…"), and a key in it. */
const ISSUE_FIELD = /^[A-Za-z_]+(\[.{1,41}\])?(\.[A-Za-z_]+)?$/su;

// ---------------------------------------------------------------------------------------------------------------
// Shapes: each check throws an AssertionError naming the path that is off.

type Check = (value: unknown, path: string) => void;

function fail(path: string, problem: string, value: unknown): never {
  throw new AssertionError(`${path || 'result'}: ${problem} (got ${String(JSON.stringify(value)).slice(0, 80)})`);
}

const string: Check = (value, path) => {
  if (typeof value !== 'string') fail(path, 'must be a string', value);
};
const nonEmptyString: Check = (value, path) => {
  if (typeof value !== 'string' || value === '') fail(path, 'must be a non-empty string', value);
};
const boolean: Check = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'must be a boolean', value);
};
/** A safe integer >= 0, never -0 (it would render as "-0"). */
const count: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || Object.is(value, -0)) {
    fail(path, 'must be a safe integer >= 0', value);
  }
};
/** Plausible epoch milliseconds: DIS's 0 ("never"), seconds and far-future values are dropped. */
const timestampMs: Check = (value, path) => {
  count(value, path);
  if ((value as number) < EARLIEST_PLAUSIBLE_MS) fail(path, 'must be from 2001 on', value);
  if ((value as number) > NOW + MAX_AHEAD_MS) fail(path, 'must be at most a day ahead of the poll time', value);
};
/** A normalised partition id: never a bare index, and a `shardId-` index has exactly its 10 (or more) digits. */
const partitionId: Check = (value, path) => {
  nonEmptyString(value, path);
  const text = value as string;
  if (/^[0-9]+$/.test(text)) fail(path, 'must not be a bare index', value);
  const digits = /^shardId-([0-9]+)$/.exec(text)?.[1];
  if (digits !== undefined && (digits.length < 10 || (digits.length > 10 && digits.startsWith('0')))) {
    fail(path, 'must be shardId- and the index padded to 10 digits', value);
  }
};
const shortText: Check = (value, path) => {
  nonEmptyString(value, path);
  // 200 characters and a "…".
  if ((value as string).length > 201) fail(path, 'must be at most 201 characters', value);
};

/** A frozen object with exactly these keys; an optional key is absent rather than undefined. */
function record(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object', value);
    if (!Object.isFrozen(value)) fail(path, 'must be frozen', value);
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (!(key in required) && !(key in optional)) fail(`${path}.${key}`, 'is not part of the shape', object[key]);
    }
    for (const [key, check] of Object.entries(required)) {
      if (!Object.hasOwn(object, key)) fail(`${path}.${key}`, 'is missing', object);
      check(object[key], `${path}.${key}`);
    }
    for (const [key, check] of Object.entries(optional)) {
      if (!Object.hasOwn(object, key)) continue;
      if (object[key] === undefined) fail(`${path}.${key}`, 'must be absent rather than undefined', undefined);
      check(object[key], `${path}.${key}`);
    }
  };
}

/** An array (frozen unless said otherwise) whose elements pass `check` and whose `key` values are distinct. */
function arrayOf(check: Check, options: { key?: (element: unknown) => unknown; frozen?: boolean } = {}): Check {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, 'must be an array', value);
    if ((options.frozen ?? true) && !Object.isFrozen(value)) fail(path, 'must be frozen', value);
    const seen = new Set<unknown>();
    value.forEach((element, index) => {
      check(element, `${path}[${index}]`);
      const key = options.key?.(element) ?? index;
      if (seen.has(key)) fail(`${path}[${index}]`, 'repeats an earlier key', key);
      seen.add(key);
    });
  };
}

const partitionIdOf = (element: unknown) => (element as { partitionId: string }).partitionId;

/** Field issues: a path and a short problem each, one per field. */
const fieldIssues = arrayOf(
  record({
    field: (value, path) => {
      if (typeof value !== 'string' || !ISSUE_FIELD.test(value)) fail(path, 'must be a field path', value);
    },
    problem: (value, path) => {
      nonEmptyString(value, path);
      if ((value as string).length > MAX_MESSAGE_CHARS) fail(path, `longer than ${MAX_MESSAGE_CHARS}`, value);
    },
  }),
  { key: (issue) => (issue as { field: string }).field },
);

const dumpTask = record(
  {
    taskId: string,
    destinationType: string,
    destination: string,
    partitions: arrayOf(
      record(
        { partitionId },
        { state: string, discard: count, lastTransferOffset: count, lastTransferTimestampMs: timestampMs },
      ),
      { key: partitionIdOf },
    ),
  },
  {
    state: string,
    createTimeMs: timestampMs,
    lastTransferTimestampMs: timestampMs,
    deliverIntervalSeconds: count,
    fieldIssues,
  },
);

const streamPartition: Check = (value, path) => {
  record({ partitionId }, { status: string, startOffset: count, endOffset: count })(value, path);
  const { startOffset, endOffset } = value as { startOffset?: number; endOffset?: number };
  if ((startOffset === undefined) !== (endOffset === undefined)) fail(path, 'must have both offsets or neither', value);
  if (startOffset !== undefined && endOffset !== undefined && startOffset > endOffset) {
    fail(path, 'must not start after its end', value);
  }
};

const streamFacts = record(
  {},
  {
    streamId: string,
    status: string,
    streamType: string,
    dataType: string,
    retentionHours: count,
    writablePartitions: count,
    readablePartitions: count,
  },
);

const streamDetailsPage = record(
  { facts: streamFacts, partitions: arrayOf(streamPartition, { key: partitionIdOf }), hasMore: boolean },
  { cursor: nonEmptyString, fieldIssues },
);

const appsPage = record(
  {
    apps: arrayOf(
      record({ appName: nonEmptyString, appId: string }, { streams: arrayOf(nonEmptyString, { key: (name) => name }) }),
      { key: (app) => (app as { appName: string }).appName },
    ),
    hasMore: boolean,
  },
  { fieldIssues },
);

/** A checkpoint comes with hasCheckpoint true, and none (-1) with false. */
const appPartitionState: Check = (value, path) => {
  record({ partitionId }, { hasCheckpoint: boolean, checkpoint: count, latestOffset: count, earliestOffset: count })(
    value,
    path,
  );
  const { hasCheckpoint, checkpoint } = value as { hasCheckpoint?: boolean; checkpoint?: number };
  if ((checkpoint !== undefined) !== (hasCheckpoint === true)) fail(path, 'checkpoint iff hasCheckpoint', value);
};

const consumerStatePage = record(
  { partitions: arrayOf(appPartitionState, { key: partitionIdOf }), hasMore: boolean },
  { cursor: nonEmptyString, fieldIssues },
);

const streamNamesPage = record({
  names: arrayOf(nonEmptyString, { key: (name) => name }),
  hasMore: boolean,
});

// parseDumpTaskList returns a plain array (DumpTaskSummary[]); its elements are frozen.
const dumpTaskList = arrayOf(record({ taskName: nonEmptyString }, { state: string }), {
  key: (element) => (element as { taskName: string }).taskName,
  frozen: false,
});

const errorBody = record({}, { apiCode: shortText, apiMessage: shortText, requestId: shortText });

const sequenceRange: Check = (value, path) => {
  if (value === undefined) return;
  record({ start: count, end: count })(Object.freeze({ ...(value as object) }), path);
  const { start, end } = value as { start: number; end: number };
  if (start > end) fail(path, 'must not start after its end', value);
};

// ---------------------------------------------------------------------------------------------------------------
// The property: a value of the shape, or a DisResponseError.

type Parser = Readonly<{ name: string; parse: (body: unknown) => unknown; shape: Check }>;

const BODY_PARSERS: readonly Parser[] = [
  {
    name: 'parseDumpTask',
    parse: (body) => parseDumpTask(body, { stream: 'orders', task: 'orders-to-obs', nowMs: NOW }),
    shape: dumpTask,
  },
  { name: 'parseDumpTaskList', parse: parseDumpTaskList, shape: dumpTaskList },
  { name: 'parseStreamNamesPage', parse: parseStreamNamesPage, shape: streamNamesPage },
  {
    name: 'parseStreamDetailsPage',
    parse: (body) => parseStreamDetailsPage(body, { stream: 'orders' }),
    shape: streamDetailsPage,
  },
  { name: 'parseAppsPage', parse: parseAppsPage, shape: appsPage },
  {
    name: 'parseConsumerStatePage',
    parse: (body) => parseConsumerStatePage(body, { app: 'billing', stream: 'orders' }),
    shape: consumerStatePage,
  },
];

/** Runs `parse`; its result must pass `shape`, and anything it throws must be a well-formed DisResponseError. */
function resultOrTypedError(parse: () => unknown, shape: Check): void {
  let result: unknown;
  try {
    result = parse();
  } catch (error) {
    if (!(error instanceof DisResponseError)) throw error;
    const { code, reason, field, problem, message } = error;
    if (code !== 'ERR_DIS_RESPONSE' || reason !== 'bad_response') fail('error', 'must be ERR_DIS_RESPONSE', error);
    if (field !== '' && !FIELD_PATH.test(field)) fail('error.field', 'must be a JSON path', field);
    if (message !== (field === '' ? problem : `${field}: ${problem}`)) fail('error.message', 'mismatch', message);
    if (message.length > MAX_MESSAGE_CHARS) fail('error.message', `longer than ${MAX_MESSAGE_CHARS}`, message);
    return;
  }
  shape(result, '');
}

/** Every body parser on one parsed body; a failure names the parser. */
function checkBody(body: unknown): void {
  for (const { name, parse, shape } of BODY_PARSERS) {
    try {
      resultOrTypedError(() => parse(body), shape);
    } catch (error) {
      const { name: kind, message } = error as Error;
      throw new AssertionError(`${name}: ${kind === 'AssertionError' ? '' : `threw ${kind}: `}${message}`);
    }
  }
}

/**
 * parseErrorBody never throws; parseJsonBody rejects exactly what JSON.parse rejects and what is over the JSON limits
 * (bounded-json.ts), and its value goes on.
 */
function checkText(text: string): void {
  errorBody(parseErrorBody(text), '');
  // Over the limits, the test's own JSON.parse would build what the limits are there to refuse.
  let isJson = jsonLimitProblem(text) === undefined;
  try {
    if (isJson) JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (isJson) {
    checkBody(parseJsonBody(text));
  } else {
    resultOrTypedError(
      () => parseJsonBody(text),
      (value) => fail('', 'must reject a body that is not JSON', value),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs: arbitrary JSON and text, and mutations of the real wire fixtures.

const FIXTURE_DIR = new URL('../fixtures/dis/', import.meta.url);
const FIXTURES: readonly unknown[] = readdirSync(FIXTURE_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURE_DIR), 'utf8')) as unknown);

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

/** Values that break naive parsers: nulls, nested nulls, huge, negative, non-finite and NaN-like, wrong types. */
const NASTY: readonly unknown[] = [
  null,
  [null],
  { partitionId: null },
  nested(3, null, false),
  nested(200, null, true),
  true,
  0,
  -0,
  -1,
  0.5,
  -1e-7,
  1e21,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Infinity,
  -Infinity,
  NaN,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '1e3',
  '0x1F',
  '1.5',
  ' 12',
  '\u0663',
  '9'.repeat(400),
  '\u0000',
  '\uD800',
  '[1 : 0]',
  '[0 : 9007199254740993]',
  'null',
  'x'.repeat(100_000),
  [],
  {},
  [1, 2, 3],
  { toString: 'x', constructor: 1, valueOf: null },
];

const MAX_MUTATION_DEPTH = 8;

/** Where a mutation applies: a key or index path from the root of a fixture. */
type Path = readonly (string | number)[];

/** The paths of every node down to MAX_MUTATION_DEPTH: deeper nodes (the 200-deep nest) are mutated as a whole. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (prefix.length >= MAX_MUTATION_DEPTH || typeof value !== 'object' || value === null) return [];
  const children: [string | number, unknown][] = Array.isArray(value) ? [...value.entries()] : Object.entries(value);
  return children.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

type Mutation =
  | { op: 'drop'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'duplicate'; at: number };

const replacement: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(Number)) },
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: replacement }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.constantFrom(
      '__proto__',
      'partitions',
      'partition_id',
      'partitionId',
      'stream_name',
      'task_name',
      'sequence_number',
      'x',
    ),
    value: replacement,
  }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
);

/** Applies the mutations in turn to a deep copy; each picks its node among the copy's paths at that moment. */
function mutate(fixture: unknown, mutations: readonly Mutation[]): unknown {
  const root = { value: structuredClone(fixture) as unknown };
  for (const m of mutations) {
    const paths: Path[] = [[], ...pathsOf(root.value)];
    const path = paths[m.at % paths.length]!;
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root.value);
    const key = path.at(-1);
    const target = key === undefined ? root.value : (parent as Record<string | number, unknown>)[key];
    const replace = (value: unknown): void => {
      if (key === undefined) root.value = value;
      else (parent as Record<string | number, unknown>)[key] = value;
    };
    switch (m.op) {
      case 'drop':
        if (key === undefined) root.value = undefined;
        else if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, unknown>)[key];
        break;
      case 'replace':
        replace(m.value);
        break;
      case 'add':
        // defineProperty: a plain `obj.__proto__ = v` would change the prototype instead of adding a key, as JSON.parse does.
        if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
          Object.defineProperty(target, m.key, {
            value: m.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        break;
      case 'duplicate':
        if (Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
        break;
    }
  }
  return root.value;
}

const mutatedFixture: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...FIXTURES), fc.array(mutation, { minLength: 1, maxLength: 5 }))
  .map(([fixture, mutations]) => mutate(fixture, mutations));

/** A field of a near-valid body: usually a valid value, sometimes a nasty one; `fc.record` leaves some out. */
function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(...NASTY) });
}

function body<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<unknown> {
  return fc.record(model, { requiredKeys: [] });
}

// Small pools, so that ids and names often repeat; one long value, so that messages quoting it get long.
const LONG = 'y'.repeat(300);
const names = fc.oneof(fc.constantFrom('orders', 'orders-to-obs', LONG), fc.string({ minLength: 1, maxLength: 8 }));
// The same partitions in every form DIS uses: `shardId-`, a bare index as text or number, an unpadded `shardId-`.
const partitionIds = fc.constantFrom<unknown>('shardId-0000000000', 'shardId-0000000001', LONG, '0', 1, 'shardId-1');
const states = fc.constantFrom('RUNNING', 'ABNORMAL', 'PAUSED', 'SUSPENDED', '');
const counts = fc.oneof(fc.nat(), fc.constantFrom(0, -1, 2 ** 53 - 1, '42', '007'));
// Milliseconds around the poll time (2030 is far ahead of it), DIS's 0 and -1, and epoch seconds.
const timestamps = fc.oneof(
  fc.constantFrom(0, -1),
  fc.integer({ min: 1_000_000_000, max: 9_999_999_999 }),
  fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
);
const ranges = fc.oneof(
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `[${a} : ${b}]`),
  fc.constantFrom('[0 : 0]', '[5 : null]', '5 : 9', null),
);
const descriptions = body({
  obs_bucket_path: field(names),
  dli_database_name: field(names),
  deliver_time_interval: field(counts),
});

/**
 * Near-valid bodies of each documented response (docs/dis-api.md: "Querying Dump Task Details", "Dump task list",
 * "Stream details", "Querying Streams", "Consumer apps"), fields dropped or broken now and then.
 */
const nearValid: fc.Arbitrary<unknown> = fc.oneof(
  body({
    stream_name: field(names),
    task_name: field(names),
    task_id: field(names),
    state: field(states),
    destination_type: field(fc.constantFrom('OBS', 'dli', 'DWS', 'UQUERY')),
    create_time: field(timestamps),
    last_transfer_timestamp: field(timestamps),
    obs_destination_description: field(descriptions),
    dli_destination_description: field(descriptions),
    dws_destination_descripton: field(descriptions),
    partitions: field(
      fc.array(
        body({
          partitionId: field(partitionIds),
          partition_id: field(fc.oneof(partitionIds, fc.nat())),
          discard: field(counts),
          state: field(states),
          last_transfer_timestamp: field(timestamps),
          last_transfer_offset: field(counts),
        }),
        { maxLength: 4 },
      ),
    ),
  }),
  body({
    stream_name: field(names),
    stream_id: field(names),
    status: field(fc.constantFrom('RUNNING', 'FROZEN', 'TERMINATED')),
    stream_type: field(fc.constantFrom('COMMON', 'ADVANCED')),
    data_type: field(fc.constantFrom('BLOB', 'JSON')),
    retention_period: field(counts),
    writable_partition_count: field(counts),
    readable_partition_count: field(counts),
    has_more_partitions: field(fc.boolean()),
    partitions: field(
      fc.array(
        body({
          partition_id: field(fc.oneof(partitionIds, fc.nat())),
          partitionId: field(partitionIds),
          status: field(fc.constantFrom('ACTIVE', 'EXPIRED')),
          sequence_number_range: field(ranges),
        }),
        { maxLength: 4 },
      ),
    ),
  }),
  body({
    has_more_streams: field(fc.boolean()),
    stream_names: field(fc.array(names, { maxLength: 4 })),
    stream_info_list: field(fc.array(body({ stream_name: field(names) }), { maxLength: 4 })),
  }),
  body({
    total_number: field(fc.nat()),
    tasks: field(fc.array(body({ task_name: field(names), state: field(states) }), { maxLength: 4 })),
  }),
  body({
    has_more_app: field(fc.boolean()),
    apps: field(
      fc.array(
        body({
          app_name: field(names),
          app_id: field(names),
          commit_checkpoint_stream_names: field(fc.array(fc.oneof(names, fc.constantFrom<unknown>('', 7)))),
        }),
        { maxLength: 4 },
      ),
    ),
  }),
  body({
    app_name: field(names),
    stream_name: field(names),
    has_more: field(fc.boolean()),
    partition_consuming_states: field(
      fc.array(
        body({
          partition_id: field(fc.oneof(partitionIds, fc.nat())),
          sequence_number: field(fc.oneof(counts, fc.constantFrom('-1', -2, '485'))),
          latest_offset: field(counts),
          earliest_offset: field(counts),
          checkpoint_type: field(fc.constant('LAST_READ')),
        }),
        { maxLength: 4 },
      ),
    ),
  }),
);

// Hostile bodies as text (JSON.stringify could not write 1e400): nests and arrays up to the 8 MiB body cap, and the
// numbers DIS might send where counts belong: negative, past 2^53, past a double, and the same as strings. The
// arbitraries draw a recipe and the property builds the text, so that a counterexample prints short.
const BODY_CAP_CHARS = 8 * 1024 * 1024;
const ODD_NUMBERS = ['-1', '-0', '-9007199254740993', '9007199254740993', '1e400', '-1e400', '1e-400', '1'.repeat(40)];
const oddLeaf = fc.constantFrom(
  ...ODD_NUMBERS,
  ...ODD_NUMBERS.map((number) => JSON.stringify(number)),
  '" 7"',
  '"0x10"',
  '{}',
  '[]',
  'null',
  '"shardId-0000000000"',
);
/** 1 to 8 Mi, each power of two as likely: mostly small, now and then the size of a bomb. */
const anySize = fc.integer({ min: 0, max: 23 }).map((exponent) => 2 ** exponent);

type HostileRecipe =
  | { kind: 'nest'; levels: number; open: '[' | '{"partitions":'; leaf: string }
  | { kind: 'array'; length: number; leaf: string }
  | { kind: 'partitions'; count: number; offset: string; discard: string; end: string };

const nestRecipe = fc.record({
  kind: fc.constant('nest' as const),
  levels: anySize,
  open: fc.constantFrom('[' as const, '{"partitions":' as const),
  leaf: oddLeaf,
});
const arrayRecipe = fc.record({ kind: fc.constant('array' as const), length: anySize, leaf: oddLeaf });
const partitionsRecipe = fc.record({
  kind: fc.constant('partitions' as const),
  count: fc.integer({ min: 1, max: 40_000 }),
  offset: oddLeaf,
  discard: oddLeaf,
  end: oddLeaf,
});
const hostileRecipe = fc.oneof(
  fc.tuple(fc.oneof(nestRecipe, arrayRecipe, partitionsRecipe), fc.constant(undefined)),
  // The same inside a body that has the fields a parser reads first, under a key a parser reads next.
  fc.tuple(fc.oneof(nestRecipe, arrayRecipe), fc.constantFrom('partitions', 'stream_names', 'tasks', 'error')),
);

function hostileText(recipe: HostileRecipe): string {
  switch (recipe.kind) {
    case 'nest': {
      const close = recipe.open === '[' ? ']' : '}';
      const levels = Math.min(recipe.levels, Math.floor(BODY_CAP_CHARS / (recipe.open.length + 1)));
      return `${recipe.open.repeat(levels)}${recipe.leaf}${close.repeat(levels)}`;
    }
    case 'array': {
      const length = Math.min(recipe.length, Math.floor(BODY_CAP_CHARS / (recipe.leaf.length + 1)));
      return `[${`${recipe.leaf},`.repeat(length - 1)}${recipe.leaf}]`;
    }
    case 'partitions': {
      const { offset, discard, end } = recipe;
      const partition = (i: number) =>
        `{"partitionId":"shardId-${i}","partition_id":"shardId-${i}","discard":${discard},` +
        `"last_transfer_offset":${offset},"last_transfer_timestamp":${offset},"sequence_number_range":"[0 : ${end}]"}`;
      const partitions = Array.from({ length: recipe.count }, (_, i) => partition(i)).join(',');
      return `{"stream_name":"s","task_name":"t","has_more_partitions":false,"partitions":[${partitions}]}`;
    }
  }
}

function hostileBody([recipe, key]: [HostileRecipe, string | undefined]): string {
  const text = hostileText(recipe);
  return key === undefined
    ? text
    : `{"stream_name":"s","task_name":"t","errorCode":"DIS.5000",${JSON.stringify(key)}:${text}}`;
}

/** Far above what a body within the JSON limits costs, far below what JSON.parse makes of a bomb. */
const MAX_HEAP_GROWTH_BYTES = 64 * 1024 * 1024;
const MAX_PARSE_MS = 2_000;

/** checkText, whose heap growth and time must stay under generous bounds. */
function checkTextBounded(text: string): void {
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  checkText(text);
  const elapsedMs = performance.now() - started;
  const grownBytes = process.memoryUsage().heapUsed - heapBefore;
  const what = `a ${text.length}-char body starting ${JSON.stringify(text.slice(0, 30))}`;
  if (grownBytes > MAX_HEAP_GROWTH_BYTES) fail('', `grew the heap by ${grownBytes} bytes on ${what}`, undefined);
  if (elapsedMs > MAX_PARSE_MS) fail('', `took ${Math.round(elapsedMs)} ms on ${what}`, undefined);
}

const options = (numRuns = RUNS): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

describe('response parsers (property-based, fast-check)', () => {
  it('hold for every wire fixture as it is', () => {
    for (const fixture of FIXTURES) checkText(JSON.stringify(fixture));
  });

  it('return their shape or throw DisResponseError for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), checkBody), options());
  });

  it('return their shape or throw DisResponseError for any JSON text, string or bytes as a body', () => {
    const text = fc.oneof(
      fc.json(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
    );
    fc.assert(fc.property(text, checkText), options());
  });

  it('return their shape or throw DisResponseError for mutated wire fixtures', () => {
    fc.assert(fc.property(mutatedFixture, checkBody), options(3000));
  });

  it('return their shape or throw DisResponseError for near-valid bodies of every documented response', () => {
    fc.assert(fc.property(nearValid, checkBody), options(3000));
  });

  it('return their shape or throw DisResponseError for mutated fixtures sent as text, whole or truncated', () => {
    const text = fc.tuple(mutatedFixture, fc.double({ min: 0, max: 1, noNaN: true })).map(([body, share]) => {
      const whole = JSON.stringify(body) ?? '';
      return share > 0.5 ? whole : whole.slice(0, Math.floor(whole.length * share * 2));
    });
    fc.assert(fc.property(text, checkText), options());
  });

  it('return their shape or throw DisResponseError for hostile bodies, within a heap and time bound', function () {
    this.timeout(120_000);
    fc.assert(
      fc.property(hostileRecipe, (recipe) => checkTextBounded(hostileBody(recipe))),
      options(300),
    );
  });

  it('read any sequence_number_range as start <= end safe integers or undefined, never throwing', () => {
    const range = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(...NASTY),
      fc
        .tuple(
          fc.constantFrom('', ' ', '\t', '-'),
          fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 60n }), fc.constant('null')),
        )
        .chain(([pad, start]) =>
          fc
            .oneof(fc.bigInt({ min: 0n, max: 2n ** 60n }), fc.constant(''))
            .map((end) => `[${pad}${start} : ${end}${pad}]`),
        ),
    );
    fc.assert(
      fc.property(range, (value) => sequenceRange(parseSequenceRange(value), '')),
      options(),
    );
  });
});
