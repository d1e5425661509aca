import type { RequestHandler } from 'express';

/** No endpoint takes a body; a few KiB leave room for clients that send an empty form or JSON object anyway. */
export const MAX_BODY_BYTES = 4 * 1024;

function tooLarge(res: Parameters<RequestHandler>[1]): void {
  // The rest of the body is not read: the connection is closed after the answer.
  res.set('Connection', 'close').status(413).type('text/plain').send('request body too large\n');
}

/** Answers 413 to a request whose body is over `maxBytes`, by its Content-Length or by counting a chunked one. */
export function rejectLargeBodies(maxBytes: number = MAX_BODY_BYTES): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > maxBytes) {
      tooLarge(res);
      return;
    }
    if (req.get('transfer-encoding') === undefined) {
      next();
      return;
    }
    let seen = 0;
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen <= maxBytes) return;
      req.off('data', onData).off('end', onEnd);
      req.pause();
      tooLarge(res);
    };
    const onEnd = (): void => next();
    req.on('data', onData).on('end', onEnd);
  };
}

/**
 * Lets at most `limit()` requests through at once (0 = no limit; read per request, so a reload can change it); one
 * more gets 503 at once, as node_exporter's --web.max-requests does, instead of queueing scrapes that would each hold
 * a rendered body.
 */
export function limitConcurrency(limit: () => number): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    const max = limit();
    if (max > 0 && inFlight >= max) {
      res.status(503).type('text/plain').send(`too many concurrent requests (server.maxRequests is ${max})\n`);
      return;
    }
    inFlight += 1;
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      inFlight -= 1;
    };
    res.once('finish', release).once('close', release);
    next();
  };
}
