// OpenID Connect id_tokens: RS256 JWTs signed with the current key (its kid in the header), for the client
// (aud), naming the user (sub) and the FHIR resource they are (fhirUser, an absolute URL).
import { SignJWT } from 'jose';
import { SIGNING_ALG } from './keys';
import type { AuthService } from './service';

const ID_TOKEN_TTL_S = 60 * 60;

export interface IdTokenClaims {
  clientId: string;
  username: string;
  fhirUser?: string;
  nonce?: string;
  authTime?: number;
}

export async function signIdToken(auth: AuthService, claims: IdTokenClaims): Promise<string> {
  const key = auth.keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...(claims.fhirUser ? { fhirUser: `${auth.settings.baseUrl}/${claims.fhirUser}` } : {}),
    ...(claims.nonce ? { nonce: claims.nonce } : {}),
    ...(claims.authTime ? { auth_time: Math.floor(claims.authTime / 1000) } : {}),
  })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT' })
    .setIssuer(auth.issuer)
    .setSubject(claims.username)
    .setAudience(claims.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + ID_TOKEN_TTL_S)
    .sign(key.privateKey);
}
