import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { constants as zlib, createGzip } from 'node:zlib';

/**
 * A scrape that comes while a body in its format is being rendered or sent to another scrape, and within this long
 * after that render began, gets that body: its values (lag seconds) are then up to this much older than the scrape
 * (or as old as a render takes, which is less at any fleet size the exporter is made for).
 */
export const SHARE_WINDOW_MS = 1000;

/**
 * Bodies of one format kept at most. A body stays while a reader still receives it; a new one beyond this drops the
 * oldest and cuts its readers off, so slow readers that come one after another cannot pile up bodies.
 */
export const MAX_BODIES_PER_FORMAT = 2;

// Level 1 of 9: the exposition repeats itself so much that the fastest level still shrinks it well (docs/benchmarks.md
// ("Results") has the sizes), for less CPU than zlib's default level 6; compression runs on the libuv thread pool,
// off the event loop.
const GZIP_LEVEL = zlib.Z_BEST_SPEED;
const GZIP_CHUNK_BYTES = 64 * 1024;

/** Bytes of each buffer the text is encoded into for gzip, and how many of them a render may have (and keep). */
const TEXT_BUFFER_BYTES = 1024 * 1024;
const TEXT_BUFFERS = 8;

/** Where bodies come from, and what tells whether a rendered one still shows what a new render would. */
export type BodySource = Readonly<{
  /** The /metrics body in the requested format, as text chunks; rejects on the first chunk if it cannot render. */
  render: (openMetrics: boolean) => AsyncIterable<string>;
  /** What a body depends on besides the time (the snapshot, the renderer): shared only while every element is the same. */
  version: () => readonly unknown[];
  /** The clock the values are computed at, in ms since the epoch. */
  now: () => number;
  /** A monotonic clock in ms (`performance.now` by default): the exporter's own metrics move in real time. */
  monotonicNow?: () => number;
}>;

/** One reader of a body: the body, and `leave` when done with it (more calls do nothing). */
export type BodyReader = Readonly<{ body: SharedBody; leave: () => void }>;

/**
 * The /metrics bodies being rendered or sent, per format. Scrapes that overlap share one render and one gzip of it;
 * only the gzipped body is kept (a client that does not accept gzip gets it inflated on the way out), and the same
 * Buffers go to every socket. A body is released as soon as its last reader is done with it; a scrape that comes
 * after that renders anew, so that scrapes one after another (the usual case) each get values of their own time.
 */
export class SharedBodies {
  readonly #source: BodySource;
  readonly #monotonicNow: () => number;
  readonly #bodies = new Map<boolean, SharedBody[]>([
    [false, []],
    [true, []],
  ]);
  /** Text buffers kept between renders: allocating megabytes per render would churn the heap and the RSS. */
  readonly #spare: Buffer[] = [];

  constructor(source: BodySource) {
    this.#source = source;
    this.#monotonicNow = source.monotonicNow ?? (() => performance.now());
  }

  /**
   * The body a scrape in this format gets: the newest one if a scrape may share it (SharedBody.sharable), else a new
   * render. `cut` is called if the body is dropped before the reader leaves.
   */
  join(openMetrics: boolean, cut: () => void): BodyReader {
    this.#prune(openMetrics);
    const bodies = this.#bodies.get(openMetrics)!;
    const version = this.#source.version();
    const at = { nowMs: this.#source.now(), monotonicMs: this.#monotonicNow() };
    let body = bodies.at(-1);
    if (body === undefined || !body.sharable(version, at)) {
      if (bodies.length >= MAX_BODIES_PER_FORMAT) bodies.shift()!.drop();
      body = new SharedBody(version, at, {
        chunks: this.#source.render(openMetrics),
        spare: this.#spare,
        onIdle: (idle) => this.#onIdle(openMetrics, idle),
      });
      bodies.push(body);
    }
    return { body, leave: body.addReader(cut) };
  }

  /** How many bodies are kept, and their gzipped bytes in all. */
  get held(): { bodies: number; bytes: number } {
    const all = [...this.#bodies.values()].flat();
    return { bodies: all.length, bytes: all.reduce((sum, body) => sum + body.bytes, 0) };
  }

  #onIdle(openMetrics: boolean, body: SharedBody): void {
    // Nobody wants the rest: stop rendering it.
    if (body.rendering) body.drop();
    this.#prune(openMetrics);
  }

  /** Forgets the bodies of a format that nothing holds any more. */
  #prune(openMetrics: boolean): void {
    this.#bodies.set(
      openMetrics,
      this.#bodies.get(openMetrics)!.filter((body) => !body.idle),
    );
  }
}

type Instant = Readonly<{ nowMs: number; monotonicMs: number }>;

/** One render of /metrics in one format, gzipped as it is rendered, and the readers it is sent to. */
export class SharedBody {
  /** Settles when the render has its first text (the headers can go); rejects when it failed before that. */
  readonly firstText: Promise<void>;
  readonly #version: readonly unknown[];
  /** When the render began: the values are computed at its `nowMs`. */
  readonly #startedAt: Instant;
  readonly #chunks: Buffer[] = [];
  readonly #readers = new Set<() => void>();
  readonly #onIdle: (body: SharedBody) => void;
  #bytes = 0;
  #state: 'rendering' | 'rendered' | 'failed' = 'rendering';
  #failure: Error | undefined;
  #wake: (() => void)[] = [];

  constructor(
    version: readonly unknown[],
    startedAt: Instant,
    options: Readonly<{ chunks: AsyncIterable<string>; spare: Buffer[]; onIdle: (body: SharedBody) => void }>,
  ) {
    this.#version = version;
    this.#startedAt = startedAt;
    this.#onIdle = options.onIdle;
    let started!: { resolve: () => void; reject: (error: unknown) => void };
    this.firstText = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
    // Readers await it; when none is left to, a failure must not be an unhandled rejection.
    this.firstText.catch(() => undefined);
    void this.#render(options.chunks, options.spare, started);
  }

  /** Gzipped bytes so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether it is still being rendered. */
  get rendering(): boolean {
    return this.#state === 'rendering';
  }

  /** Whether nothing holds it: rendered (or failed) and no reader left. */
  get idle(): boolean {
    return this.#state !== 'rendering' && this.#readers.size === 0;
  }

  /**
   * Whether a scrape at `at` of `version` may have this body: the same version and not failed, and still being
   * rendered, or sent to a reader and begun at most SHARE_WINDOW_MS before, by the clock of the values and by the
   * monotonic clock (the exporter's own metrics move in real time).
   */
  sharable(version: readonly unknown[], at: Instant): boolean {
    if (this.#state === 'failed' || !sameElements(version, this.#version)) return false;
    if (this.#state === 'rendering') return true;
    if (this.#readers.size === 0) return false;
    const ageMs = at.nowMs - this.#startedAt.nowMs;
    const elapsedMs = at.monotonicMs - this.#startedAt.monotonicMs;
    return ageMs >= 0 && ageMs <= SHARE_WINDOW_MS && elapsedMs <= SHARE_WINDOW_MS;
  }

  /** Adds a reader; `cut` is called if the body is dropped while it reads. Returns how the reader leaves. */
  addReader(cut: () => void): () => void {
    const reader = (): void => cut();
    this.#readers.add(reader);
    return () => {
      if (!this.#readers.delete(reader)) return;
      if (this.#readers.size === 0) this.#onIdle(this);
    };
  }

  /** The gzipped body from its start, chunk by chunk as it is rendered; the same Buffers for every reader. */
  async *gzipped(): AsyncGenerator<Buffer, void, undefined> {
    for (let next = 0; ;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (next < this.#chunks.length) {
        yield this.#chunks[next++]!;
        continue;
      }
      if (this.#state === 'rendered') return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  /** Stops the render if it runs, frees the body and cuts its readers off. */
  drop(): void {
    if (this.#state !== 'failed') this.#fail(new Error('the /metrics body was dropped'));
    const readers = [...this.#readers];
    this.#readers.clear();
    for (const cut of readers) cut();
  }

  async #render(
    chunks: AsyncIterable<string>,
    spare: Buffer[],
    started: { resolve: () => void; reject: (error: unknown) => void },
  ): Promise<void> {
    const iterator = chunks[Symbol.asyncIterator]();
    let first: IteratorResult<string, unknown>;
    try {
      first = await iterator.next();
    } catch (error) {
      started.reject(error);
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    started.resolve();
    const gzip = createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
    gzip.on('data', (chunk: Buffer) => {
      if (this.#state !== 'rendering') return;
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
      this.#notify();
    });
    const compressed = finished(gzip);
    compressed.catch(() => undefined);
    try {
      await encodeInto(resume(first, iterator), gzip, spare, () => this.#state !== 'rendering');
      gzip.end();
      await compressed;
      if (this.#state === 'rendering') this.#state = 'rendered';
    } catch (error) {
      gzip.destroy();
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
    this.#notify();
    if (this.#readers.size === 0) this.#onIdle(this);
  }

  #fail(error: Error): void {
    if (this.#state === 'failed') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#chunks.length = 0;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const resolve of wake) resolve();
  }
}

function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((element, index) => element === b[index]);
}

/**
 * Encodes the text chunks into large reused buffers and writes each to `destination` when it is full: a render is
 * then a few large gzip jobs on the thread pool rather than one per chunk, and rendering goes on while earlier
 * buffers are compressed. At most TEXT_BUFFERS buffers are in flight, whatever the size of the exposition. Stops
 * (throws) at the next chunk once `stopped()`.
 */
async function encodeInto(
  chunks: AsyncIterable<string>,
  destination: Writable,
  spare: Buffer[],
  stopped: () => boolean,
): Promise<void> {
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  let allocated = 0;
  let failure: { error: unknown } | undefined;
  let buffer: Buffer | undefined;
  let length = 0;
  const take = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated >= TEXT_BUFFERS) await Promise.race(inFlight);
    if (free.length > 0) return free.pop()!;
    allocated += 1;
    return spare.pop() ?? Buffer.allocUnsafe(TEXT_BUFFER_BYTES);
  };
  const flush = (): void => {
    if (buffer === undefined || length === 0) return;
    const full = buffer;
    const sent = write(destination, full.subarray(0, length)).then(
      () => {
        inFlight.delete(sent);
        free.push(full);
      },
      (error: unknown) => {
        failure ??= { error };
        throw error;
      },
    );
    sent.catch(() => undefined);
    inFlight.add(sent);
    buffer = undefined;
    length = 0;
  };
  for await (const chunk of chunks) {
    if (failure !== undefined) throw failure.error;
    if (stopped()) throw new Error('the render was stopped');
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, so a chunk that passes this check fits.
    if (buffer !== undefined && length + 3 * chunk.length > TEXT_BUFFER_BYTES) flush();
    if (3 * chunk.length > TEXT_BUFFER_BYTES) {
      flush();
      await write(destination, chunk);
      continue;
    }
    buffer ??= await take();
    length += buffer.write(chunk, length);
  }
  flush();
  await Promise.all(inFlight);
  // Only buffers the destination is done with go back; after a failure the others are left to the GC.
  for (const done of [...free, ...(buffer === undefined ? [] : [buffer])]) {
    if (spare.length < TEXT_BUFFERS) spare.push(done);
  }
}

/** Writes to a stream; settles when the stream is done with the data. */
function write(destination: Writable, data: Buffer | string): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    destination.write(data, (error) => (error ? reject(error) : resolve()));
  });
  // Awaited later, or not at all when an earlier write failed first.
  written.catch(() => undefined);
  return written;
}

/** The chunks of an iterator whose first result was already taken. */
async function* resume(
  first: IteratorResult<string, unknown>,
  rest: AsyncIterator<string, unknown>,
): AsyncGenerator<string, void, undefined> {
  if (first.done === true) return;
  yield first.value;
  yield* { [Symbol.asyncIterator]: () => rest };
}
