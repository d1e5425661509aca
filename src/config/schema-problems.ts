import type convict from 'convict';
import {
  configSchema,
  describeKind,
  fileNumberProblem,
  isMapping,
  isSchemaLeaf,
  schemaLeaves,
  type SchemaNode,
} from './schema.js';

// How the file's shape and convict's validation become `<key.path>: <what is wrong>` lines, for the whole file
// (load.ts) and for a section checked on its own (a project's `auth`, projects.ts).

/** A dotted key path: `prefix.key`, or `key` at the top. */
export function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

// convict's overlay crashes on a mapping where a setting is expected and ignores these names
// (its prototype-pollution guard), so both are caught here before the file reaches convict.
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The sections that hold a secret setting (`auth`, `auth.iam`): their unknown entries may be secrets. */
const SECRET_SECTIONS: ReadonlySet<string> = new Set(
  schemaLeaves()
    .filter((leaf) => leaf.sensitive)
    .map((leaf) => leaf.path.slice(0, leaf.path.lastIndexOf('.'))),
);

/**
 * The file's settings with each section checked for shape: a section that is not a mapping, a mapping where a single
 * value or a list belongs, a bare number (other than 0) where a duration belongs, and the names convict cannot handle
 * are problems (and dropped); unknown keys are kept for convict to report.
 */
export function checkShape(
  raw: Record<string, unknown>,
  section: { readonly [key: string]: SchemaNode },
  prefix: string,
  problems: string[],
): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = join(prefix, key);
    const node = Object.hasOwn(section, key) ? section[key] : undefined;
    if (node === undefined) {
      if (RESERVED_KEYS.has(key)) problems.push(`${path}: unknown key`);
      else clean[key] = value;
    } else if (!isSchemaLeaf(node)) {
      // A section left with every setting commented out is null in YAML: treat it as absent.
      if (value === null) continue;
      if (isMapping(value)) clean[key] = checkShape(value, node, path, problems);
      else problems.push(`${path}: must be a mapping of settings (got ${describeKind(value)})`);
    } else if (isMapping(value)) {
      problems.push(`${path}: must be ${Array.isArray(node.default) ? 'a list' : 'a single value'}, not a mapping`);
    } else {
      const numberProblem = fileNumberProblem(node, value);
      if (numberProblem === undefined) clean[key] = value;
      else problems.push(`${path}: ${numberProblem}`);
    }
  }
  return clean;
}

/** A key name compared loosely: case, `-` and `_` ignored. */
export function normalizedName(name: string): string {
  return name.toLowerCase().replaceAll(/[-_]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function nodeAt(path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema;
  for (const segment of path === '' ? [] : path.split('.')) {
    node = node === undefined || isSchemaLeaf(node) || !Object.hasOwn(node, segment) ? undefined : node[segment];
  }
  return node;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function suggestion(path: string): string {
  const name = lastSegment(path);
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
  const parentNode = nodeAt(parent);
  const siblings = parentNode === undefined || isSchemaLeaf(parentNode) ? [] : Object.keys(parentNode);
  const same = siblings.find((sibling) => normalizedName(sibling) === normalizedName(name));
  if (same !== undefined) return ` (did you mean ${join(parent, same)}?)`;
  // A key put in the wrong section (`projectId` at the top) is found by its name alone, before a sibling that is
  // merely spelt alike (`projects`).
  const moved = schemaLeaves().find((leaf) => normalizedName(lastSegment(leaf.path)) === normalizedName(name));
  if (moved !== undefined) return ` (did you mean ${moved.path}?)`;
  // The closest sibling within a third of the name's length (`secretKeyFiel` is secretKeyFile, not secretKey).
  const limit = Math.max(1, Math.floor(name.length / 3));
  let near: { sibling: string; distance: number } | undefined;
  for (const sibling of siblings) {
    const distance = editDistance(sibling.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (near === undefined || distance < near.distance)) near = { sibling, distance };
  }
  return near === undefined ? '' : ` (did you mean ${join(parent, near.sibling)}?)`;
}

/** The problem line of an unknown key: its first unknown segment, a near key when there is one, never a secret. */
export function unknownKey(path: string): string {
  // Report `metrics` once rather than every `metrics.x.y` convict lists under it.
  const segments = path.split('.');
  const depth = segments.findIndex((_, index) => nodeAt(segments.slice(0, index + 1).join('.')) === undefined);
  const unknown = depth === -1 ? path : segments.slice(0, depth + 1).join('.');
  const hint = suggestion(unknown);
  // `auth: { accessKey: AK, SK }` or `auth: { AK: SK }`: a secret written as a key. A misspelt key name is close to
  // a real one and is shown with it; anything else in these sections may be a secret.
  const section = unknown.slice(0, unknown.lastIndexOf('.'));
  if (hint === '' && SECRET_SECTIONS.has(section)) return `${section}: unknown key, not shown as it may be a secret`;
  return `${unknown}: unknown key${hint}`;
}

const UNDECLARED = /^configuration param '(.+)' not declared in the schema$/;
const KEYED = /^([\w.]+): (.*)$/;

// convict reports all problems as one string: "<key>: <our format's message>: value was <json>" per
// line, plus a fixed sentence per undeclared key. Our format messages never contain
// ": value was ", and multi-line ones (targets) give every line its full path.
/** One line of convict's validation error as a problem line. */
export function translateConvictLine(line: string): string {
  const clean = line.replace(/: value was .*$/, '');
  const undeclared = UNDECLARED.exec(clean);
  if (undeclared?.[1] !== undefined) return unknownKey(undeclared[1]);
  const keyed = KEYED.exec(clean);
  if (keyed?.[1] !== undefined && keyed[2] !== undefined && keyed[2].startsWith(`${keyed[1]}[`)) return keyed[2];
  return clean;
}

/** Every problem convict's strict validation finds, one line each. */
export function validationProblems<T>(store: convict.Config<T>): string[] {
  try {
    store.validate({ allowed: 'strict' });
    return [];
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return error.message.split('\n').map(translateConvictLine);
  }
}

/** The key path a problem line starts with. */
export function keyOf(problem: string): string {
  return problem.slice(0, problem.indexOf(': '));
}

/** Whether `key` is `ancestor` or lies under it (`ancestor.x`, `ancestor[0]`). */
export function isAtOrUnder(key: string, ancestor: string): boolean {
  return key === ancestor || key.startsWith(`${ancestor}.`) || key.startsWith(`${ancestor}[`);
}

/**
 * Whether every setting of a section has the type of its default, so that its values can be used (a setting of the
 * wrong type has been reported already; an unknown key, which convict keeps, does not matter).
 */
export function hasSettingTypes(values: unknown, section: SchemaNode): boolean {
  if (isSchemaLeaf(section)) return typeof values === typeof section.default;
  return isMapping(values) && Object.entries(section).every(([key, node]) => hasSettingTypes(values[key], node));
}
