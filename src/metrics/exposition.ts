import type { Logger } from 'pino';
import type { StateSets } from '../config/types.js';
import type { Snapshot } from '../poll/store.js';
import { familyWriters, startScrape, type LineSink, type Scrape } from './family-writers.js';
import { BATCH_ITEMS, buildLabelText, timeSlices, type LabelText } from './label-text.js';
import { FAMILIES, describeInterval, type FamilyKey } from './names.js';

/** What the translation of a snapshot into series needs besides the snapshot and the scrape time. */
export type TranslationOptions = Readonly<{
  staleAfterMs: number;
  /** `lag.stallAfter` when configured; otherwise derived per task from its deliver interval. */
  stallAfterMs?: number;
  /** `metrics.stateSets`: every state with 0 or 1 (the default), or only the current one with 1. */
  stateSets?: StateSets;
}>;

/** What the data families need besides the snapshot: the translation's options, the HELP interval, a logger. */
export type ExpositionOptions = TranslationOptions &
  Readonly<{
    pollIntervalMs: number;
    logger: Logger;
    /** Longest stretch of work between two yields to the event loop; SLICE_MS by default. */
    sliceMs?: number;
  }>;

/**
 * Renders the data and per-target families (FAMILIES) straight from a snapshot, in the bytes prom-client would
 * write for the samples of the reference (test/reference/samples.ts): `chunks` yields the families in order,
 * separated as prom-client separates them (a blank line in the text format, nothing in OpenMetrics), without a
 * separator after the last one.
 * It never throws: a family that fails ends where it broke, like a throwing collect() of the reference collector.
 */
export interface Exposition {
  chunks(snapshot: Snapshot, nowMs: number, openMetrics: boolean): AsyncGenerator<string, void, undefined>;
  /** Builds the label text of a new snapshot ahead of its first scrape (in slices); never rejects. */
  prepare(snapshot: Snapshot): Promise<void>;
}

/** Characters per chunk: small enough that encoding one reuses heap memory rather than mapping fresh pages. */
export const CHUNK_CHARS = 32 * 1024;

/**
 * Creates the renderer. The label text of a snapshot is built once (by `prepare` after the poll cycle, or by its
 * first scrape) and kept, in a WeakMap so that it goes with the snapshot, for every later scrape of it: per scrape
 * only the values are written, and only the lag, the verdicts and what staleAfter hides depend on the scrape time.
 * A poll cycle makes a new snapshot (new status objects), hence new text.
 */
export function createExposition(options: ExpositionOptions): Exposition {
  const stateSets = options.stateSets ?? 'all';
  const writers = familyWriters(stateSets);
  const keys = Object.keys(FAMILIES) as FamilyKey[];
  const every = describeInterval(options.pollIntervalMs);
  const headers = keys.map((key) => {
    const { name, help, type } = FAMILIES[key];
    const header = (shown: string) =>
      `# HELP ${escapeText(shown)} ${escapeText(help(every, stateSets))}\n# TYPE ${escapeText(shown)} ${type}`;
    // OpenMetrics names a counter family without `_total`; its samples keep it.
    return { text: header(name), openMetrics: header(type === 'counter' ? name.replace(/_total$/, '') : name) };
  });
  const texts = new WeakMap<Snapshot, Promise<LabelText>>();
  const labelText = (snapshot: Snapshot): Promise<LabelText> => {
    let text = texts.get(snapshot);
    if (text === undefined) {
      text = buildLabelText(snapshot, options);
      texts.set(snapshot, text);
    }
    return text;
  };

  return {
    async prepare(snapshot) {
      try {
        await labelText(snapshot);
      } catch (error) {
        options.logger.error({ error: String(error) }, 'metric translation failed');
      }
    },
    async *chunks(snapshot, nowMs, openMetrics) {
      let scrape: Scrape | undefined;
      try {
        scrape = startScrape(await labelText(snapshot), nowMs, options.staleAfterMs);
      } catch (error) {
        options.logger.error({ error: String(error) }, 'metric translation failed');
      }
      const out = new Chunks();
      const breathe = timeSlices(options.sliceMs);
      for (const [index, key] of keys.entries()) {
        if (index > 0) out.add(openMetrics ? '\n' : '\n\n');
        out.add(openMetrics ? headers[index]!.openMetrics : headers[index]!.text);
        if (scrape === undefined) continue;
        const writer = writers[key];
        const name = FAMILIES[key].name;
        try {
          if (writer.over === 'snapshot') {
            writer.write(snapshot, name, out);
            continue;
          }
          const count = scrape.text[writer.over].length;
          for (let from = 0; from < count; from += BATCH_ITEMS) {
            writer.write(scrape, from, Math.min(count, from + BATCH_ITEMS), name, out);
            yield* out.take();
            await breathe();
          }
        } catch (error) {
          options.logger.error({ metric: name, error: String(error) }, 'metric translation failed');
        }
      }
      yield* out.take();
      const last = out.rest();
      if (last !== '') yield last;
    },
  };
}

/** Collects lines into chunks of about CHUNK_CHARS characters. */
class Chunks implements LineSink {
  #parts: string[] = [];
  #length = 0;
  #full: string[] = [];

  add(text: string): void {
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length >= CHUNK_CHARS) {
      this.#full.push(this.#parts.join(''));
      this.#parts = [];
      this.#length = 0;
    }
  }

  /** The full chunks collected since the last call. */
  take(): string[] {
    const full = this.#full;
    this.#full = [];
    return full;
  }

  /** The text of the chunk not yet full, which is then empty. */
  rest(): string {
    const text = this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    return text;
  }
}

/** A metric name or HELP text escaped as prom-client escapes it: backslash and newline. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
