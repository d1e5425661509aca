import { createHash } from 'node:crypto';
import type { AgencySettings } from './scenario.js';

/** Why a temporary AK/SK's request is refused when its X-Security-Token is not the key's. */
export const TOKEN_MISMATCH = 'the security token does not match the temporary access key';

/** An answer of the metadata service: status and body (text as is, anything else as JSON). */
export type MetadataAnswer = Readonly<{ status: number; body: unknown }>;

/** A temporary AK/SK with its security token, as the metadata service hands it out. */
export type TemporaryKey = Readonly<{
  accessKey: string;
  secretKey: string;
  securityToken: string;
  expiresAtMs: number;
}>;

/** Whether a signed request's temporary key may call DIS: its secret, or why not. */
export type KeyVerdict = { ok: true; secretKey: string } | { ok: false; message: string };

/**
 * The metadata service of an ECS server with an agency bound (docs/dis-api.md ("Agency keys from the metadata
 * service")): session tokens, and temporary keys that it renews `renewBeforeMs` before they expire, old and new both
 * valid meanwhile.
 */
export interface FakeAgency {
  /** Answers `PUT /meta-data/latest/api/token` with its `X-Metadata-Token-Ttl-Seconds`. */
  sessionToken(ttlSeconds: string | undefined, nowMs: number): MetadataAnswer;
  /** Answers `GET /openstack/latest/securitykey` with its `X-Metadata-Token`. */
  securityKey(sessionToken: string | undefined, nowMs: number): MetadataAnswer;
  /** The secret key of `accessKey` if it is a temporary key, or undefined. */
  secretOf(accessKey: string): string | undefined;
  /** Checks the security token and the expiry of a temporary key whose signature matched. */
  verify(accessKey: string, securityToken: string | undefined, nowMs: number): KeyVerdict;
  /** Every key issued so far is refused from now on (the agency was changed); the next request gets a new one. */
  revokeAll(): void;
  /** Every key issued so far, oldest first (for tests that look for leaks). */
  issued(): readonly TemporaryKey[];
}

/** IAM-style times with microseconds, as the service writes `expires_at`. */
function serviceTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The longest session token TTL the service grants: 6 hours. */
const MAX_TTL_SECONDS = 21_600;

/** Creates the metadata service of one simulator; keys and tokens are deterministic per seed. */
export function createFakeAgency(settings: AgencySettings, seed: number): FakeAgency {
  const keys: Array<TemporaryKey & { revoked: boolean }> = [];
  const sessions = new Map<string, number>();
  let serial = 0;
  const digest = (kind: string, length: number): string =>
    createHash('sha256').update(`${seed}:${kind}:${serial}`).digest('base64url').slice(0, length);

  const issue = (nowMs: number): TemporaryKey & { revoked: boolean } => {
    serial += 1;
    const key = {
      accessKey: `SIMTMP${String(serial).padStart(14, '0')}`,
      secretKey: digest('secret', 40),
      // Real security tokens are a few KiB; a long one checks that nothing truncates or logs it.
      securityToken: `gQpjbi1ub3J0aC00${digest('sts', 40)}${'A'.repeat(600)}`,
      expiresAtMs: nowMs + settings.keyLifetimeMs,
      revoked: false,
    };
    keys.push(key);
    return key;
  };

  return {
    sessionToken(ttlSeconds, nowMs) {
      if (settings.sessionTokens === 'unsupported') return { status: 404, body: '404 Not Found' };
      const ttl = ttlSeconds !== undefined && /^\d+$/.test(ttlSeconds) ? Number(ttlSeconds) : 0;
      if (ttl < 1 || ttl > MAX_TTL_SECONDS) return { status: 400, body: 'invalid X-Metadata-Token-Ttl-Seconds' };
      serial += 1;
      const token = `sim-session-${digest('session', 24)}`;
      sessions.set(token, nowMs + ttl * 1000);
      return { status: 200, body: token };
    },
    securityKey(sessionToken, nowMs) {
      const expiresAtMs = sessionToken === undefined ? undefined : sessions.get(sessionToken);
      const validSession = expiresAtMs !== undefined && nowMs < expiresAtMs;
      if (sessionToken !== undefined && !validSession) return { status: 401, body: 'Unauthorized' };
      if (settings.sessionTokens === 'required' && !validSession) return { status: 401, body: 'Unauthorized' };
      const current = keys.findLast((key) => !key.revoked);
      const key =
        current === undefined || nowMs >= current.expiresAtMs - settings.renewBeforeMs ? issue(nowMs) : current;
      return {
        status: 200,
        body: {
          credential: {
            access: key.accessKey,
            secret: key.secretKey,
            securitytoken: key.securityToken,
            expires_at: serviceTime(key.expiresAtMs),
          },
        },
      };
    },
    secretOf(accessKey) {
      return keys.find((key) => key.accessKey === accessKey)?.secretKey;
    },
    verify(accessKey, securityToken, nowMs) {
      const key = keys.find((candidate) => candidate.accessKey === accessKey);
      const problem =
        key === undefined
          ? 'unknown access key'
          : securityToken !== key.securityToken
            ? TOKEN_MISMATCH
            : key.revoked
              ? 'the temporary access key has been revoked'
              : nowMs >= key.expiresAtMs
                ? 'the security token has expired'
                : undefined;
      if (problem === undefined) return { ok: true, secretKey: key!.secretKey };
      return { ok: false, message: `Incorrect IAM authentication information: ${problem}` };
    },
    revokeAll() {
      for (const key of keys) key.revoked = true;
    },
    issued() {
      return keys.map(({ accessKey, secretKey, securityToken, expiresAtMs }) => ({
        accessKey,
        secretKey,
        securityToken,
        expiresAtMs,
      }));
    },
  };
}
