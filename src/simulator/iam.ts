import { createHash } from 'node:crypto';
import type { IamSettings, IamUser } from './scenario.js';

/** The answer to a token request: status, extra headers and JSON body. */
export type IamAnswer = Readonly<{ status: number; headers: Readonly<Record<string, string>>; body: unknown }>;

/** Whether an `X-Auth-Token` may call DIS, and if not the gateway's 401 code and message. */
export type TokenVerdict = { ok: true } | { ok: false; code: 'APIGW.0301'; message: string };

/** The simulator's IAM: issues project-scoped tokens for its users and checks them on DIS calls. */
export interface FakeIam {
  /** Answers `POST /v3/auth/tokens` (its raw body) with 201 and a token, 400 for a malformed body, 401 for a bad password. */
  issue(rawBody: string, nowMs: number): IamAnswer;
  /**
   * Answers `POST /v3.0/OS-AUTH/id-token/tokens` (its `X-Idp-Id` and raw body): 201 and a token for a well-formed JWT
   * that has not expired (the signature is not checked), 400 for a malformed body, 401 for an unknown identity
   * provider or a bad, expired or revoked JWT, 403 for another project.
   */
  issueForIdToken(idpId: string | undefined, rawBody: string, nowMs: number): IamAnswer;
  /** Every OIDC ID token presented so far, oldest first. */
  presentedIdTokens(): readonly string[];
  /** ID tokens presented from now on with these values are refused (a service account deleted). */
  revokeIdToken(jwt: string): void;
  /** Checks a token a DIS call carries for `projectId`. */
  verify(token: string, projectId: string, nowMs: number): TokenVerdict;
  /** Every token issued so far is rejected from now on, as after a password change or an early expiry. */
  revokeAll(): void;
  /** Every token issued so far, oldest first (for tests that look for leaks). */
  issued(): readonly string[];
}

type Issued = { token: string; projectId: string; expiresAtMs: number; revoked: boolean };

/** Huawei's error body, `{"error_msg", "error_code"}`; the codes of this API are not in our references. */
function iamError(code: string, message: string): { error_msg: string; error_code: string } {
  return { error_msg: message, error_code: code };
}

/** The answer to a token request for another project than the simulator's. */
function otherProject(projectId: string): IamAnswer {
  return { status: 403, headers: {}, body: iamError('IAM.0006', `No permission to access project ${projectId}.`) };
}

const BAD_BODY: IamAnswer = { status: 400, headers: {}, body: iamError('IAM.0011', 'Request body is invalid.') };

/** IAM writes times with microseconds: `2024-01-02T00:00:00.000000Z`. */
function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The user, password and project of a password-method request, or undefined when the body is not one. */
function readRequest(
  rawBody: string,
): { domain: string; name: string; password: string; projectId: string } | undefined {
  const auth = authOf(rawBody);
  const identity = isObject(auth) ? auth['identity'] : undefined;
  const methods = isObject(identity) ? identity['methods'] : undefined;
  if (!Array.isArray(methods) || !methods.includes('password')) return undefined;
  const password = isObject(identity) ? identity['password'] : undefined;
  const user = isObject(password) ? password['user'] : undefined;
  const domain = isObject(user) ? user['domain'] : undefined;
  const fields = {
    domain: text(isObject(domain) ? domain['name'] : undefined),
    name: text(isObject(user) ? user['name'] : undefined),
    password: text(isObject(user) ? user['password'] : undefined),
    projectId: scopedProject(auth),
  };
  const { domain: domainName, name, password: secret, projectId } = fields;
  if (domainName === undefined || name === undefined || secret === undefined || projectId === undefined) {
    return undefined;
  }
  return { domain: domainName, name, password: secret, projectId };
}

/** The `auth` object of a token request's JSON body, or undefined. */
function authOf(rawBody: string): unknown {
  try {
    const body: unknown = JSON.parse(rawBody);
    return isObject(body) ? body['auth'] : undefined;
  } catch {
    return undefined;
  }
}

/** The project id of `auth.scope.project.id`, or undefined. */
function scopedProject(auth: unknown): string | undefined {
  const scope = isObject(auth) ? auth['scope'] : undefined;
  const project = isObject(scope) ? scope['project'] : undefined;
  return text(isObject(project) ? project['id'] : undefined);
}

/** The JWT and project of an ID-token request, or undefined when the body is not one. */
function readIdTokenRequest(rawBody: string): { jwt: string; projectId: string } | undefined {
  const auth = authOf(rawBody);
  const idToken = isObject(auth) ? auth['id_token'] : undefined;
  const jwt = text(isObject(idToken) ? idToken['id'] : undefined);
  const projectId = scopedProject(auth);
  return jwt === undefined || projectId === undefined ? undefined : { jwt, projectId };
}

/** The claims of a JWT (not verified), or undefined when it is not three base64url parts with a JSON payload. */
function jwtClaims(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return isObject(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** A stable id shaped like IAM's 32 hex digits. */
function hexId(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 32);
}

/** Creates the IAM of one simulator; `projectId` is the only project tokens can be scoped to. */
export function createFakeIam(settings: IamSettings, projectId: string, seed: number): FakeIam {
  const tokens = new Map<string, Issued>();
  const presented: string[] = [];
  const revokedIdTokens = new Set<string>();
  let count = 0;

  /** A new token for the project, its 201 answer with the body IAM sends (without `catalog`). */
  const grant = (who: string, method: string, nowMs: number, user: Record<string, unknown>): IamAnswer => {
    count += 1;
    // Deterministic per seed, unguessable enough for a simulator; real tokens are much longer.
    const digest = createHash('sha256').update(`${seed}:${count}:${who}`).digest('base64url');
    const token = `MIIsim${digest}`;
    const expiresAtMs = nowMs + settings.tokenLifetimeMs;
    tokens.set(token, { token, projectId, expiresAtMs, revoked: false });
    return {
      status: 201,
      headers: { 'X-Subject-Token': token },
      body: {
        token: {
          expires_at: iamTime(expiresAtMs),
          issued_at: iamTime(nowMs),
          methods: [method],
          user,
          project: { domain: user['domain'], id: projectId, name: 'cn-north-4' },
          roles: [{ id: hexId('role', 'dis_adm'), name: 'dis_adm' }],
        },
      },
    };
  };

  const findUser = (domain: string, name: string): IamUser | undefined =>
    settings.users.find((user) => user.domain === domain && user.name === name);

  return {
    issue(rawBody, nowMs) {
      const request = readRequest(rawBody);
      if (request === undefined) return BAD_BODY;
      const user = findUser(request.domain, request.name);
      if (user === undefined || user.password !== request.password) {
        return { status: 401, headers: {}, body: iamError('IAM.0005', 'The username or password is wrong.') };
      }
      if (request.projectId !== projectId) {
        return otherProject(request.projectId);
      }
      const domain = { id: hexId('domain', user.domain), name: user.domain };
      return grant(`${user.domain}/${user.name}`, 'password', nowMs, {
        domain,
        id: hexId('user', `${user.domain}/${user.name}`),
        name: user.name,
        password_expires_at: '',
      });
    },
    issueForIdToken(idpId, rawBody, nowMs) {
      const request = readIdTokenRequest(rawBody);
      if (request === undefined) return BAD_BODY;
      presented.push(request.jwt);
      if (idpId === undefined || !settings.identityProviders.includes(idpId)) {
        return { status: 401, headers: {}, body: iamError('IAM.0401', 'The identity provider does not exist.') };
      }
      const claims = jwtClaims(request.jwt);
      const exp = claims?.['exp'];
      const problem =
        claims === undefined
          ? 'The id_token is invalid.'
          : typeof exp !== 'number' || exp * 1000 <= nowMs
            ? 'The id_token has expired.'
            : revokedIdTokens.has(request.jwt)
              ? 'The id_token has been revoked.'
              : undefined;
      if (problem !== undefined) return { status: 401, headers: {}, body: iamError('IAM.0402', problem) };
      if (request.projectId !== projectId) {
        return otherProject(request.projectId);
      }
      const subject = typeof claims?.['sub'] === 'string' ? claims['sub'] : 'unknown';
      const domain = { id: hexId('domain', idpId), name: idpId };
      return grant(`${idpId}/${subject}`, 'mapped', nowMs, { domain, id: hexId('user', subject), name: subject });
    },
    presentedIdTokens() {
      return [...presented];
    },
    revokeIdToken(jwt) {
      revokedIdTokens.add(jwt);
    },
    verify(token, forProject, nowMs) {
      const issued = tokens.get(token);
      const problem =
        issued === undefined
          ? 'decrypt token fail'
          : issued.revoked
            ? 'token has been revoked'
            : nowMs >= issued.expiresAtMs
              ? 'token expired'
              : issued.projectId !== forProject
                ? 'the token is scoped to another project'
                : undefined;
      if (problem === undefined) return { ok: true };
      return { ok: false, code: 'APIGW.0301', message: `Incorrect IAM authentication information: ${problem}` };
    },
    revokeAll() {
      for (const issued of tokens.values()) issued.revoked = true;
    },
    issued() {
      return [...tokens.keys()];
    },
  };
}
