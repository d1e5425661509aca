import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInfo } from './metrics/self.js';

/** The package root: the nearest folder above this file with our package.json (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && readJson(candidate)?.name === 'dis-exporter') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json of dis-exporter not found');
    dir = parent;
  }
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Version from package.json, git revision stamped by `npm run build` (dist/build-info.json) or `unknown`. */
export function readBuildInfo(): BuildInfo {
  const root = packageRoot();
  const version = readJson(join(root, 'package.json'))?.version;
  const revision = readJson(join(root, 'dist', 'build-info.json'))?.revision;
  return {
    version: typeof version === 'string' ? version.replace(/^v/, '') : 'unknown',
    revision: typeof revision === 'string' && revision !== '' ? revision : 'unknown',
    nodejsVersion: process.version,
  };
}
