/** The claims of a projected Kubernetes service-account token that the simulator's IAM looks at. */
export type ServiceAccountClaims = Readonly<{
  /** `system:serviceaccount:<namespace>:<name>`. */
  subject: string;
  /** The identity provider's client ID. */
  audience: string;
  issuedAtMs: number;
  expiresAtMs: number;
}>;

/**
 * A JWT shaped like a projected service-account token (RS256 header, Kubernetes claims), for tests and the demo. Its
 * signature part is a placeholder: the simulator's IAM reads the claims but checks no signature.
 */
export function serviceAccountJwt(claims: ServiceAccountClaims): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg: 'RS256', kid: 'simulator', typ: 'JWT' };
  const payload = {
    aud: [claims.audience],
    exp: Math.floor(claims.expiresAtMs / 1000),
    iat: Math.floor(claims.issuedAtMs / 1000),
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: claims.subject,
  };
  return `${part(header)}.${part(payload)}.${Buffer.from('simulator-signature').toString('base64url')}`;
}
