import { ANY } from '../config/apps.js';
import type { AppSelector } from '../config/types.js';
import type { AppSummary } from '../dis/types.js';

/**
 * The app/stream pairs the `apps` selectors of a project stand for, given its latest app listing (undefined: none yet),
 * in selector order and then listing order, each pair once (docs/configuration.md ("Consumer apps")):
 *
 * - `{app: A, stream: S}` is that pair, listed or not (a missing app then fails as not_found);
 * - `{app: A, stream: "*"}` is A in every stream its listing entry names (`commit_checkpoint_stream_names`);
 * - `{app: "*", stream: S}` is every listed app that names S, or that names no streams at all (the reference's
 *   listing may leave the field out: such an app is asked, and shows no checkpoint where it has none);
 * - `{app: "*", stream: "*"}` is every listed app in every stream it names.
 */
export function appPairs(selectors: readonly AppSelector[], listing: readonly AppSummary[] | undefined): AppSelector[] {
  const pairs: AppSelector[] = [];
  const seen = new Set<string>();
  const add = (app: string, stream: string): void => {
    const key = `${app}/${stream}`;
    if (seen.has(key)) return;
    seen.add(key);
    pairs.push({ app, stream });
  };
  for (const { app, stream } of selectors) {
    if (app !== ANY && stream !== ANY) {
      add(app, stream);
      continue;
    }
    for (const listed of listing ?? []) {
      if (app !== ANY && listed.appName !== app) continue;
      if (stream === ANY) {
        for (const name of listed.streams ?? []) add(listed.appName, name);
      } else if (listed.streams === undefined || listed.streams.includes(stream)) {
        add(listed.appName, stream);
      }
    }
  }
  return pairs;
}
