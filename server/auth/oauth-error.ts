// OAuth 2.0 error responses (RFC 6749 section 5.2): thrown by the token, introspection and revocation
// endpoints and rendered as `{error, error_description}` JSON.
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status: 400 | 401 = code === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }

  get body(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description);
export const invalidClient = (description: string) => new OAuthError('invalid_client', description);
export const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description);
