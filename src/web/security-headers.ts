import { LANDING_PAGE_STYLE_HASH } from '../http/landing-page.js';

/**
 * The Content-Security-Policy of every response: nothing may load but the landing page's own inline style (by
 * its hash), no frame may embed a page, and no form or base URL may point elsewhere.
 */
export const CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src '${LANDING_PAGE_STYLE_HASH}'; base-uri 'none'; form-action 'none'; ` +
  "frame-ancestors 'none'";

/** HSTS sent over HTTPS: one year, this host only (the exporter's host may serve other things over HTTP). */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/**
 * Pure: the security headers of every response. The web config's `http_server_config.headers` replace the
 * defaults, and "" there drops a header. Strict-Transport-Security is sent by default only with TLS.
 */
export function securityHeaders(configured: Readonly<Record<string, string>>, tls: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    ...(tls ? { 'Strict-Transport-Security': STRICT_TRANSPORT_SECURITY } : {}),
    ...configured,
  };
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  return headers;
}
