import type { Clock } from '../clock.js';
import type { AccessKeyPair, Credentials } from '../config/types.js';
import { createIamTokenSource, type SendTokenRequest } from './iam-token.js';
import { createMetadataKeySource, type SendMetadataRequest } from './metadata-keys.js';
import type { CredentialEvent, RenewalTimings } from './renewing-credential.js';

/** How one DIS request is authenticated. */
export type RequestAuth = Readonly<{
  /** Headers to add: `X-Auth-Token` for an IAM token. */
  headers: Readonly<Record<string, string>>;
  /** The AK/SK (and security token) to sign the request with. */
  signWith?: AccessKeyPair;
  /** Drops the token or keys the request carried once DIS rejects them (401); undefined for a static AK/SK. */
  renew?: () => void;
}>;

/** What the authenticator is built from. */
export type RequestAuthenticatorOptions = Readonly<{
  /** The project IAM tokens are scoped to. */
  projectId: string;
  clock: Clock;
  /** Token requests: over the DIS transport (and its proxy). */
  sendTokenRequest: SendTokenRequest;
  /** Metadata requests: over a transport that never uses a proxy. */
  sendMetadataRequest: SendMetadataRequest;
  timings: RenewalTimings;
  /** Every credential obtained, every fetch that failed. */
  onEvent?: (event: CredentialEvent) => void;
}>;

/** Turns the credentials in use into what each request carries, sharing one token or one set of keys. */
export interface RequestAuthenticator {
  /** Rejects with the DisError (reported: true) of a token or key fetch that failed, or the signal's reason. */
  authenticate(credentials: Credentials, signal: AbortSignal | undefined): Promise<RequestAuth>;
  /** New timings (a reload changed the poll interval). */
  setTimings(timings: RenewalTimings): void;
  /** Aborts the fetches in flight. */
  close(): void;
}

/**
 * Creates the authenticator of one client: a static AK/SK signs as it is; an IAM user's password and a workload's
 * OIDC ID token are traded for a shared IAM token (iam-token.ts); the metadata service gives temporary keys that sign
 * with their security token (metadata-keys.ts).
 */
export function createRequestAuthenticator(options: RequestAuthenticatorOptions): RequestAuthenticator {
  const events = options.onEvent === undefined ? {} : { onEvent: options.onEvent };
  const tokens = createIamTokenSource({
    projectId: options.projectId,
    clock: options.clock,
    send: options.sendTokenRequest,
    timings: options.timings,
    ...events,
  });
  const keys = createMetadataKeySource({
    clock: options.clock,
    send: options.sendMetadataRequest,
    timings: options.timings,
    ...events,
  });
  return {
    async authenticate(credentials, signal): Promise<RequestAuth> {
      switch (credentials.kind) {
        case 'aksk':
          return { headers: {}, signWith: credentials };
        case 'iam':
        case 'oidc': {
          const token = await tokens.get(credentials, signal);
          return { headers: { 'x-auth-token': token }, renew: () => tokens.invalidate(token) };
        }
        case 'metadata': {
          const temporary = await keys.get(credentials, signal);
          return { headers: {}, signWith: temporary, renew: () => keys.invalidate(temporary) };
        }
      }
    },
    setTimings(timings) {
      tokens.setTimings(timings);
      keys.setTimings(timings);
    },
    close() {
      tokens.close();
      keys.close();
    },
  };
}
