import { appProblems, toAppSelector, type AppEntry } from './apps.js';
import { ConfigError } from './config-error.js';
import { resolveCredentials, resolveCredentialsAsync } from './credentials.js';
import {
  checkDisEndpoint,
  configSchema,
  createAuthConvictConfig,
  projectIdProblem,
  regionProblem,
  type ConfigProperties,
} from './schema.js';
import { checkShape, hasSettingTypes, normalizedName, validationProblems } from './schema-problems.js';
import { targetProblems, toSelector, type TargetEntry } from './targets.js';
import type { AppSelector, Config, Credentials, Project, ProjectEntry } from './types.js';
import { describeKind, isMapping } from './values.js';

// The several-projects form of the configuration (docs/configuration.md ("Several projects")): reading and checking
// the `projects` entries, and turning either form into the list of projects the rest of the exporter sees.

/** The keys of a `projects` entry, in the order problems are reported. */
const ENTRY_KEYS: readonly string[] = ['projectId', 'endpoint', 'region', 'targets', 'apps', 'auth'];

const ENTRY_EXAMPLE =
  '{projectId: ..., endpoint: https://dis.cn-north-4.myhuaweicloud.com, region: cn-north-4, targets: [...]}';

/** An `auth` section and its key path (`auth`, `projects[1].auth`): where a configuration's credentials come from. */
export type AuthSection = Readonly<{ auth: Config['auth']; key: string }>;

/** What reading the `projects` entries gave. */
export type ProjectsRead = Readonly<{
  /** The entries without a problem, in order: all of them when `problems` is empty. */
  entries: readonly ProjectEntry[];
  problems: readonly string[];
  /** The projects' own `auth` sections whose settings have their types, for their credentials to be read and checked. */
  ownAuth: readonly AuthSection[];
  /** Whether some project has no `auth` of its own, so uses the top-level one. */
  usesTopLevelAuth: boolean;
}>;

/** Whether the configuration uses the several-projects form: a `projects` list with at least one entry. */
export function usesProjects(properties: Pick<ConfigProperties, 'projects'>): boolean {
  return Array.isArray(properties.projects) && properties.projects.length > 0;
}

/**
 * Checks and reads each `projects` entry: its keys, a project ID (once in the list), an endpoint, a region, at least
 * one target (or app), optional apps, and an optional `auth` checked like the top-level one (its environment variables
 * aside). Problems name the entry's key path (`projects[1].region: ...`) and never a secret.
 */
export function readProjects(entries: readonly unknown[]): ProjectsRead {
  const read: ProjectEntry[] = [];
  const problems: string[] = [];
  const ownAuth: AuthSection[] = [];
  let usesTopLevelAuth = false;
  const firstIndex = new Map<string, number>();
  entries.forEach((raw, index) => {
    const at = `projects[${index}]`;
    if (!isMapping(raw)) {
      // Only the kind: a misplaced entry may hold a secret.
      problems.push(`${at}: must be a mapping like ${ENTRY_EXAMPLE} (got ${describeKind(raw)})`);
      return;
    }
    const found: string[] = [];
    for (const key of Object.keys(raw)) if (!ENTRY_KEYS.includes(key)) found.push(unknownEntryKey(at, key));
    const idProblem = projectIdProblem(raw['projectId']);
    if (idProblem !== undefined) {
      found.push(`${at}.projectId: ${idProblem}`);
    } else {
      const id = raw['projectId'] as string;
      const first = firstIndex.get(id);
      if (first === undefined) firstIndex.set(id, index);
      else found.push(`${at}.projectId: duplicates projects[${first}] (${id})`);
    }
    const endpoint = readEndpoint(raw['endpoint'], `${at}.endpoint`, found);
    const regionIssue = absent(raw['region']) ? 'is required' : regionProblem(raw['region']);
    if (regionIssue !== undefined) found.push(`${at}.region: ${regionIssue}`);
    const apps = readEntryApps(raw['apps'], `${at}.apps`, found);
    const targetsKey = `${at}.targets`;
    const targets = raw['targets'] ?? [];
    // A project may poll apps alone: no targets is then no problem (nor is it when its apps have problems of their own).
    const appsWritten = !absent(raw['apps']) && !(Array.isArray(raw['apps']) && raw['apps'].length === 0);
    const appsOnly = appsWritten && Array.isArray(targets) && targets.length === 0;
    for (const line of appsOnly ? [] : targetProblems(targets, targetsKey)) found.push(withinList(line, targetsKey));
    let auth: Config['auth'] | undefined;
    if (absent(raw['auth'])) {
      usesTopLevelAuth = true;
    } else {
      const section = readAuthSection(raw['auth'], `${at}.auth`);
      found.push(...section.problems);
      auth = section.auth;
      if (auth !== undefined) ownAuth.push({ auth, key: `${at}.auth` });
    }
    problems.push(...found);
    if (found.length > 0) return;
    read.push({
      projectId: raw['projectId'] as string,
      endpoint,
      region: raw['region'] as string,
      targets: (targets as TargetEntry[]).map(toSelector),
      ...(apps.length === 0 ? {} : { apps }),
      ...(auth === undefined ? {} : { auth }),
    });
  });
  return { entries: read, problems, ownAuth, usesTopLevelAuth };
}

/**
 * The problems of the two forms taken together: without `projects`, `dis.projectId` and `targets` are required; with
 * it, neither may be set (one problem naming them). `projectsWritten`: `projects` was given but is not a list, which
 * is reported already; neither form is then asked for anything.
 */
export function formProblems(
  properties: Pick<ConfigProperties, 'dis' | 'targets' | 'apps' | 'projects'>,
  projectsWritten: boolean,
): string[] {
  const { dis, targets, apps } = properties;
  const hasApps = !Array.isArray(apps) || apps.length > 0;
  if (projectsWritten && !usesProjects(properties)) return [];
  if (!usesProjects(properties)) {
    const problems: string[] = [];
    if (dis.projectId === '') problems.push('dis.projectId: is required');
    // Apps alone are something to poll too.
    if (Array.isArray(targets) && targets.length === 0 && !hasApps) {
      problems.push('targets: at least one target is required');
    }
    return problems;
  }
  const set: string[] = [];
  if (dis.projectId !== '') set.push('dis.projectId');
  if (!Array.isArray(targets) || targets.length > 0) set.push('targets');
  if (hasApps) set.push('apps');
  if (set.length === 0) return [];
  const last = set.pop()!;
  const listed = set.length === 0 ? last : `${set.join(', ')} and ${last}`;
  return [
    `projects: cannot be used together with ${listed}; list every project under projects, or poll one ` +
      'with dis.projectId and targets, not both',
  ];
}

/**
 * The projects a configuration polls: its `projects`, each with its own `auth` or else the top-level one, or the one
 * project of `dis` and `targets`.
 */
export function projectsOf(config: Pick<Config, 'dis' | 'auth' | 'targets' | 'apps' | 'projects'>): readonly Project[] {
  if (config.projects === undefined) {
    const { projectId, endpoint, region } = config.dis;
    const { targets, auth } = config;
    return [Object.freeze({ projectId, endpoint, region, targets, apps: config.apps ?? [], auth, authKey: 'auth' })];
  }
  return config.projects.map((entry, index) => {
    const { projectId, endpoint, region, targets } = entry;
    const own = entry.auth !== undefined;
    return Object.freeze({
      projectId,
      endpoint,
      region,
      targets,
      apps: entry.apps ?? [],
      auth: entry.auth ?? config.auth,
      authKey: own ? `projects[${index}].auth` : 'auth',
    });
  });
}

/**
 * Reads the credentials of each `auth` section, by key; throws a ConfigError with every problem, each named under its
 * section's key (`projects[1].auth.accessKey: is required ...`).
 */
export function resolveSections(sections: readonly AuthSection[]): ReadonlyMap<string, Credentials> {
  const resolved = new Map<string, Credentials>();
  const problems: string[] = [];
  for (const { auth, key } of sections) {
    try {
      resolved.set(key, resolveCredentials(auth));
    } catch (error) {
      problems.push(...inSection(error, key));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** resolveSections without blocking the event loop on the file reads (a reload): the same checks and errors. */
export async function resolveSectionsAsync(
  sections: readonly AuthSection[],
): Promise<ReadonlyMap<string, Credentials>> {
  const results = await Promise.allSettled(sections.map(({ auth }) => resolveCredentialsAsync(auth)));
  const resolved = new Map<string, Credentials>();
  const problems: string[] = [];
  results.forEach((result, index) => {
    const { key } = sections[index]!;
    if (result.status === 'fulfilled') resolved.set(key, result.value);
    else problems.push(...inSection(result.reason, key));
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** The credentials of each project, by project ID; an `auth` section shared by several is read once. */
export function resolveProjectCredentials(projects: readonly Project[]): ReadonlyMap<string, Credentials> {
  return byProject(projects, resolveSections(authSections(projects)));
}

/** resolveProjectCredentials without blocking the event loop on the file reads (a reload). */
export async function resolveProjectCredentialsAsync(
  projects: readonly Project[],
): Promise<ReadonlyMap<string, Credentials>> {
  return byProject(projects, await resolveSectionsAsync(authSections(projects)));
}

function authSections(projects: readonly Project[]): AuthSection[] {
  const sections = new Map<string, AuthSection>();
  for (const { auth, authKey } of projects) if (!sections.has(authKey)) sections.set(authKey, { auth, key: authKey });
  return [...sections.values()];
}

function byProject(
  projects: readonly Project[],
  bySection: ReadonlyMap<string, Credentials>,
): ReadonlyMap<string, Credentials> {
  return new Map(projects.map((project) => [project.projectId, bySection.get(project.authKey)!]));
}

/** A problem line of a list setting under `key`: an element's problem names its path already, the list's does not. */
function withinList(line: string, key: string): string {
  return line.startsWith(`${key}[`) ? line : `${key}: ${line}`;
}

/** A project's `apps`, checked: the selectors, or none when it has problems (added to `problems`) or is left out. */
function readEntryApps(value: unknown, key: string, problems: string[]): AppSelector[] {
  if (absent(value)) return [];
  const found = appProblems(value, key).map((line) => withinList(line, key));
  problems.push(...found);
  return found.length > 0 ? [] : (value as AppEntry[]).map(toAppSelector);
}

function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

function unknownEntryKey(at: string, key: string): string {
  const near = ENTRY_KEYS.find((known) => normalizedName(known) === normalizedName(key));
  return `${at}.${key}: unknown key${near === undefined ? '' : ` (did you mean ${at}.${near}?)`}`;
}

function readEndpoint(value: unknown, key: string, problems: string[]): string {
  if (absent(value) || value === '') {
    problems.push(`${key}: is required`);
    return '';
  }
  const checked = checkDisEndpoint(value);
  if ('problem' in checked) {
    problems.push(`${key}: ${checked.problem}`);
    return '';
  }
  return checked.origin;
}

/**
 * A project's own `auth`, checked with the schema's `auth` section (the same keys and formats as the top-level one):
 * the settings with their defaults, or the problems under `key`.
 */
function readAuthSection(raw: unknown, key: string): { auth?: Config['auth']; problems: string[] } {
  if (!isMapping(raw)) return { problems: [`${key}: must be a mapping of settings (got ${describeKind(raw)})`] };
  const shapeProblems: string[] = [];
  const clean = checkShape({ auth: raw }, { auth: configSchema.auth }, '', shapeProblems);
  const store = createAuthConvictConfig();
  store.load(clean);
  const problems = [...shapeProblems, ...validationProblems(store)].map((problem) => withinSection(problem, key));
  const { auth } = store.getProperties();
  // As for the top-level auth, the credentials are read and checked too when every setting has its type (an unknown
  // key does not matter to them).
  return hasSettingTypes(auth, configSchema.auth) ? { auth, problems } : { problems };
}

// A problem of an `auth` section names its keys from `auth` on (`auth.iam: cannot be used together with
// auth.accessKey`); under a project, each of those names starts at the project's section instead.
const AUTH_KEY = /(?<![\w.\]])auth(?=[.:])/g;

function withinSection(problem: string, key: string): string {
  return key === 'auth' ? problem : problem.replace(AUTH_KEY, key);
}

function inSection(error: unknown, key: string): readonly string[] {
  if (!(error instanceof ConfigError)) throw error;
  return error.problems.map((problem) => withinSection(problem, key));
}
