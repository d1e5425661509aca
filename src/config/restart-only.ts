import type { Config } from './types.js';

/**
 * Settings read once at start, which a reload keeps at their running values: the listening socket, the log
 * destination's format, and the proxy, which every client's connections are built on (with the proxy settings
 * resolved from it and the environment at start). The projects are not among them: a reload adds, removes and changes
 * projects (and the one project of `dis`), each with a client of its own (docs/configuration.md ("Reloading the
 * configuration")).
 */
export const RESTART_ONLY_KEYS = ['server.host', 'server.port', 'log.format', 'dis.proxy'] as const;

/** A reloaded configuration as it can be applied, and the restart-only keys whose new values it leaves out. */
export type ApplicableConfig = Readonly<{ config: Config; ignored: readonly string[] }>;

/**
 * Pure: `next` with the running values of RESTART_ONLY_KEYS (and the proxy settings resolved from them and the
 * environment at start), and the keys among them whose values differ.
 */
export function keepRestartOnlyKeys(running: Config, next: Config): ApplicableConfig {
  const sections: Record<string, Record<string, unknown>> = {};
  const ignored: string[] = [];
  for (const key of RESTART_ONLY_KEYS) {
    const [section, name] = key.split('.') as [keyof Config, string];
    const kept = (running[section] as Readonly<Record<string, unknown>>)[name];
    const copy = (sections[section] ??= { ...next[section] });
    if (copy[name] !== kept) ignored.push(key);
    copy[name] = kept;
  }
  for (const section of Object.values(sections)) Object.freeze(section);
  return { config: Object.freeze({ ...next, ...sections, proxy: running.proxy }) as Config, ignored };
}
