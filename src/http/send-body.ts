import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/**
 * Sends a gzipped body to a response: as it is, or inflated on the way for a client that does not accept gzip. Each
 * chunk is written once the previous one has left (backpressure), so a reader that does not read holds no more than
 * a chunk of its own; the chunks themselves are shared, never copied. Rejects when the response closes first.
 */
export async function sendGzipped(chunks: AsyncIterable<Buffer>, response: Writable, inflate: boolean): Promise<void> {
  let destination: Writable = response;
  if (inflate) {
    const gunzip = createGunzip();
    gunzip.pipe(response);
    gunzip.once('error', (error) => response.destroy(error));
    destination = gunzip;
  }
  const sent = finished(response);
  // A response closed early (the client hung up, or its time ran out) stops the inflating too.
  sent.catch(() => destination.destroy());
  try {
    for await (const chunk of chunks) {
      if (!destination.write(chunk)) await drained(destination);
    }
    destination.end();
    await sent;
  } catch (error) {
    destination.destroy();
    throw error;
  }
}

/** Resolves when a stream wants more data; rejects when it closes or fails first. */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('the response closed'));
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stop();
      resolve();
    };
    const onClose = (): void => {
      stop();
      reject(new Error('the response closed'));
    };
    const stop = (): void => {
      stream.off('drain', onDrain).off('close', onClose).off('error', onClose);
    };
    stream.on('drain', onDrain).on('close', onClose).on('error', onClose);
  });
}
