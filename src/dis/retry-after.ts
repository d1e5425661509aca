import { parseHttpDate } from './http-date.js';

/**
 * The wait a `Retry-After` header asks for, in milliseconds (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date
 * measured against `nowMs` (0 when already past); undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const dateMs = parseHttpDate(text, nowMs);
  return dateMs === undefined ? undefined : Math.max(0, dateMs - nowMs);
}
