// Turns a FHIR API request's credentials into its AccessContext: a live bearer token in the Authorization
// header, or a 401 with `WWW-Authenticate: Bearer`. Tokens in the URL are refused: URLs end up in logs.
import type { IncomingMessage } from 'node:http';
import type { AccessContext } from '../../resources/access';
import { FhirError, issue, outcome } from '../../resources/errors';
import type { BearerTokens } from './bearer';

export type Authenticator = (req: IncomingMessage, query: [string, string][]) => Promise<AccessContext>;

/** With auth disabled (development on loopback only) every caller has full access. */
export const OPEN_ACCESS: Authenticator = async () => ({ actor: 'anonymous' });

export function bearerAuthenticator(bearer: BearerTokens): Authenticator {
  return async (req, query) => {
    if (query.some(([name]) => name === 'access_token')) {
      throw unauthorized('invalid_request', 'Send the access token in the Authorization header, not the URL');
    }
    const header = req.headers.authorization;
    if (!header) throw unauthorized(undefined, 'This request needs an access token (Authorization: Bearer)');
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
    if (!match) throw unauthorized('invalid_request', 'The Authorization header must be "Bearer <token>"');
    const access = await bearer.accessContext(match[1]);
    if (!access) throw unauthorized('invalid_token', 'The access token is unknown, expired or revoked');
    return access;
  };
}

function unauthorized(error: string | undefined, diagnostics: string): FhirError {
  const challenge = `Bearer realm="hms"${error ? `, error="${error}"` : ''}`;
  return new FhirError(401, outcome([issue('login', diagnostics)]), { 'WWW-Authenticate': challenge });
}
