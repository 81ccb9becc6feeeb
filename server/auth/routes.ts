// The authorization server's HTTP endpoints on the Express app: discovery under the FHIR base, and the token,
// introspection, revocation and key endpoints under /auth. The login, consent and launch pages are mounted
// from pages/ by mountAuthorizePages.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { BearerTokens } from './bearer';
import { openidConfiguration, smartConfiguration } from './discovery';
import { introspect, revoke } from './introspection';
import { mountAuthorizePages } from './pages/mount';
import { OAuthError, invalidRequest } from './oauth-error';
import type { AuthService } from './service';
import { tokenRequest } from './token-endpoint';
import type { CorsPolicy } from './cors';
import type { AuditSubtype } from '../../resources/audit/balp';
import { claimedAccess, tokenAccess, type AuthAudit } from './audit';
import type { ClientCredentials } from './client-auth';
import type { RepositoryServices } from '../../resources/repository';

const FORM_LIMIT = '64kb';

export interface AuthRouteOptions {
  auth: AuthService;
  bearer: BearerTokens;
  cors: CorsPolicy;
  baseUrl: string;
  /** For the patient picker of the authorization pages. */
  services: RepositoryServices;
  audit: AuthAudit;
}

export function mountAuthRoutes(app: Express, options: AuthRouteOptions): void {
  const { auth, bearer, baseUrl, cors } = options;
  const publicJson = (body: () => unknown) => (_req: Request, res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.type('application/json').send(JSON.stringify(body()));
  };
  // Under the FHIR base (SMART) and at the origin's root, where some clients look first.
  app.get(
    ['/fhir/.well-known/smart-configuration', '/.well-known/smart-configuration'],
    publicJson(() => smartConfiguration(baseUrl)),
  );
  app.get(
    ['/fhir/.well-known/openid-configuration', '/.well-known/openid-configuration'],
    publicJson(() => openidConfiguration(baseUrl)),
  );
  app.get(
    '/auth/jwks',
    publicJson(() => auth.keys.jwks()),
  );
  app.get(
    '/auth/smart-style.json',
    publicJson(() => SMART_STYLE),
  );

  const form = express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 50 });
  type Handler = (credentials: ClientCredentials, req: Request) => Promise<unknown>;
  const oauth = (handler: Handler, audited?: AuditSubtype) =>
    [
      cors.middleware(),
      form,
      async (req: Request, res: Response) => {
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Pragma', 'no-cache');
        let credentials: ClientCredentials | undefined;
        try {
          credentials = { form: formParams(req), authorization: req.headers.authorization };
          const body = await handler(credentials, req);
          res.status(200).json(body ?? {});
        } catch (error) {
          if (audited && error instanceof OAuthError) {
            const claimed = claimedAccess(credentials?.form.get('client_id'), req.socket.remoteAddress);
            await options.audit(claimed, { subtype: audited, outcome: '4', outcomeText: error.code });
          }
          sendOAuthError(res, error);
        }
      },
    ] as const;
  const issueToken: Handler = async (credentials, req) => {
    const { body, context } = await tokenRequest(auth, credentials);
    await options.audit(tokenAccess(context, req.socket.remoteAddress), {
      subtype: 'token',
      outcome: '0',
      patients: context.patient ? [context.patient] : [],
    });
    return body;
  };
  const revokeToken: Handler = async (credentials, req) => {
    await revoke(auth, bearer, credentials);
    const claimed = claimedAccess(credentials.form.get('client_id'), req.socket.remoteAddress);
    await options.audit(claimed, { subtype: 'revoke', outcome: '0' });
  };
  app.options(['/auth/token', '/auth/introspect', '/auth/revoke'], cors.middleware());
  app.post('/auth/token', ...oauth(issueToken, 'token'));
  app.post('/auth/introspect', ...oauth((credentials) => introspect(auth, bearer, credentials)));
  app.post('/auth/revoke', ...oauth(revokeToken, 'revoke'));
  mountAuthorizePages(app, { auth, services: options.services, audit: options.audit });
  app.use('/auth', oauthErrorHandler);
}

const SMART_STYLE = {
  color_background: '#f6f7f9',
  color_error: '#b3261e',
  color_highlight: '#0b5cad',
  color_modal_backdrop: 'rgba(0, 0, 0, 0.4)',
  color_success: '#1e7d32',
  color_text: '#1b1f24',
  dim_border_radius: '6px',
  dim_font_size: '16px',
  dim_spacing_size: '16px',
  font_family_body: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  font_family_heading: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
};

/** The form as name/value pairs; a repeated or non-string parameter is a malformed request. */
function formParams(req: Request): URLSearchParams {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw invalidRequest('The request must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') throw invalidRequest(`Parameter ${name} must appear once`);
    params.set(name, value);
  }
  return params;
}

function sendOAuthError(res: Response, error: unknown): void {
  if (!(error instanceof OAuthError)) throw error;
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="hms"');
  res.status(error.status).json(error.body);
}

/** Body-parser failures (too large, malformed) on the OAuth endpoints are OAuth errors, not 500s. */
function oauthErrorHandler(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = (error as { status?: number })?.status;
  if (error instanceof OAuthError) return sendOAuthError(res, error);
  if (status !== undefined && status >= 400 && status < 500) {
    res.setHeader('Cache-Control', 'no-store');
    res.status(400).json({ error: 'invalid_request', error_description: 'The request body could not be read' });
    return;
  }
  next(error);
}
