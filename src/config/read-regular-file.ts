import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode } from './config-error.js';

/**
 * The most bytes read from each kind of file the configuration names. A key or password is tens of characters; a
 * config or web config file of a thousand targets or users is tens of KiB; a certificate chain or a CA bundle (the
 * whole system bundle included) is a few hundred KiB. A larger file is a mistake (a log, a device, an image), and
 * reading it whole would cost memory and time for nothing.
 */
export const FILE_SIZE_LIMITS = {
  /** auth.accessKeyFile, auth.secretKeyFile, auth.iam.passwordFile. */
  secret: 4 * 1024,
  /**
   * auth.oidc.idTokenFile and auth.securityTokenFile: a Kubernetes service-account JWT is one to two KiB, more with
   * many audiences or claims, and the security token of a temporary AK/SK is of the same order.
   */
  token: 16 * 1024,
  /** The config file and the web config file. */
  config: 1024 * 1024,
  /** The TLS certificate, key and client CA files. */
  pem: 1024 * 1024,
} as const;

/** Why a file named by the configuration cannot be read: an errno code (`ENOENT`) or what is wrong with it. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  readonly code = 'ERR_FILE_READ';
  /** `ENOENT`, `EACCES`..., `not a regular file (a FIFO)` or `file is larger than N bytes`; never the contents. */
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

// Opening a FIFO for reading waits for a writer, for ever; with O_NONBLOCK it returns at once, and the fstat of
// the open file (no race with a rename between a stat and the open) says what it is before anything is read.
// O_NONBLOCK does not change reads of a regular file. Windows has no O_NONBLOCK, and no FIFOs to open.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'an unknown kind of file';
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError(`file is larger than ${maxBytes} bytes`);
}

/** A request for the next bytes of the file, into `buffer` from `offset`, at most `length`. */
type ReadRequest = Readonly<{ buffer: Buffer; offset: number; length: number }>;

/**
 * The rule both readers follow, as steps (each yield asks for bytes and gets how many came, 0 at the end): a regular
 * file of at most `maxBytes`, by its size and by what is read (it may grow, or report no size).
 */
function* contentsOf(stats: Stats, maxBytes: number): Generator<ReadRequest, string, number> {
  if (!stats.isFile()) throw new FileReadError(`not a regular file (${kindOf(stats)})`);
  if (stats.size > maxBytes) throw tooLarge(maxBytes);
  // One byte more than allowed, so that a file longer than it said is caught.
  let buffer = Buffer.allocUnsafe(Math.min(stats.size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) throw tooLarge(maxBytes);
      const next = Buffer.allocUnsafe(Math.min(length * 2, maxBytes + 1));
      buffer.copy(next);
      buffer = next;
    }
    const read = yield { buffer, offset: length, length: buffer.length - length };
    if (read === 0) return buffer.toString('utf8', 0, length);
    length += read;
  }
}

function asFileReadError(error: unknown): FileReadError {
  return error instanceof FileReadError ? error : new FileReadError(errnoCode(error));
}

/**
 * The UTF-8 text of a regular file of at most `maxBytes`, read at start-up. Throws FileReadError for a missing or
 * unreadable file, anything but a regular file (a FIFO or a device is never read, and never waited on) and a file
 * over the limit.
 */
export function readRegularFileSync(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    throw asFileReadError(error);
  }
  try {
    const steps = contentsOf(fstatSync(fd), maxBytes);
    let step = steps.next();
    while (step.done !== true) {
      const { buffer, offset, length } = step.value;
      step = steps.next(readSync(fd, buffer, offset, length, null));
    }
    return step.value;
  } catch (error) {
    throw asFileReadError(error);
  } finally {
    closeSync(fd);
  }
}

/**
 * readRegularFileSync without blocking the event loop, for a reload while scrapes go on: the same rule and the
 * same errors.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    throw asFileReadError(error);
  }
  try {
    const steps = contentsOf(await handle.stat(), maxBytes);
    let step = steps.next();
    while (step.done !== true) {
      const { buffer, offset, length } = step.value;
      step = steps.next((await handle.read(buffer, offset, length, null)).bytesRead);
    }
    return step.value;
  } catch (error) {
    throw asFileReadError(error);
  } finally {
    await handle.close();
  }
}
