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
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const auth = isObject(body) ? body['auth'] : undefined;
  const identity = isObject(auth) ? auth['identity'] : undefined;
  const methods = isObject(identity) ? identity['methods'] : undefined;
  if (!Array.isArray(methods) || !methods.includes('password')) return undefined;
  const password = isObject(identity) ? identity['password'] : undefined;
  const user = isObject(password) ? password['user'] : undefined;
  const domain = isObject(user) ? user['domain'] : undefined;
  const scope = isObject(auth) ? auth['scope'] : undefined;
  const project = isObject(scope) ? scope['project'] : undefined;
  const fields = {
    domain: text(isObject(domain) ? domain['name'] : undefined),
    name: text(isObject(user) ? user['name'] : undefined),
    password: text(isObject(user) ? user['password'] : undefined),
    projectId: text(isObject(project) ? project['id'] : undefined),
  };
  const { domain: domainName, name, password: secret, projectId } = fields;
  if (domainName === undefined || name === undefined || secret === undefined || projectId === undefined) {
    return undefined;
  }
  return { domain: domainName, name, password: secret, projectId };
}

/** A stable id shaped like IAM's 32 hex digits. */
function hexId(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 32);
}

/** Creates the IAM of one simulator; `projectId` is the only project tokens can be scoped to. */
export function createFakeIam(settings: IamSettings, projectId: string, seed: number): FakeIam {
  const tokens = new Map<string, Issued>();
  let count = 0;

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
        return {
          status: 403,
          headers: {},
          body: iamError('IAM.0006', `No permission to access project ${request.projectId}.`),
        };
      }
      count += 1;
      // Deterministic per seed, unguessable enough for a simulator; real tokens are much longer.
      const digest = createHash('sha256').update(`${seed}:${count}:${user.domain}/${user.name}`).digest('base64url');
      const token = `MIIsim${digest}`;
      const expiresAtMs = nowMs + settings.tokenLifetimeMs;
      tokens.set(token, { token, projectId, expiresAtMs, revoked: false });
      const domain = { id: hexId('domain', user.domain), name: user.domain };
      return {
        status: 201,
        headers: { 'X-Subject-Token': token },
        // The documented shape without `catalog`, as with ?nocatalog=true.
        body: {
          token: {
            expires_at: iamTime(expiresAtMs),
            issued_at: iamTime(nowMs),
            methods: ['password'],
            user: {
              domain,
              id: hexId('user', `${user.domain}/${user.name}`),
              name: user.name,
              password_expires_at: '',
            },
            project: { domain, id: projectId, name: 'cn-north-4' },
            roles: [{ id: hexId('role', 'dis_adm'), name: 'dis_adm' }],
          },
        },
      };
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
