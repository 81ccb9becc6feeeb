// The authorization server's pages on the Express app: authorize (GET and POST), the steps of a pending
// request (sign in, second factor, patient, consent), passkeys, sign-out and the EHR launch helper.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { RepositoryServices } from '../../../resources/repository';
import type { AuthService } from '../service';
import { authAudit, type AuthAudit } from '../audit';
import { PasskeyRelyingParty } from '../webauthn';
import { PASSKEY_SCRIPT, sendPasskeyScript } from './assets';
import { startAuthorization } from './authorize';
import type { PagesContext } from './context';
import { postConsent, postPatient, showStep } from './flow';
import { confirmLaunch, confirmLogout, launchApp, logout } from './launch';
import { jsonBody } from './json-api';
import { loginStatus, loginWithPassword, loginWithTotp } from './login';
import { loginWithPasskey, passkeyLoginOptions } from './passkey-login';
import { addPasskey, passkeyRegistrationOptions, removePasskey, showPasskeys } from './passkeys';
import { PendingAuthorizations } from './pending';
import { APPS_PAGE, revokeApp, showApps } from './apps';
import { LoginThrottle } from './throttle';

export interface AuthorizePagesOptions {
  auth: AuthService;
  /** For the staff patient picker and the launch helper's patient check. */
  services: RepositoryServices;
  /** Where sign-ins go in the audit trail (the store's audit log by default). */
  audit?: AuthAudit;
}

type Handler = (ctx: PagesContext, req: Request, res: Response) => Promise<void>;

export function mountAuthorizePages(app: Express, options: AuthorizePagesOptions): void {
  const ctx: PagesContext = {
    auth: options.auth,
    services: options.services,
    pending: new PendingAuthorizations(options.auth),
    throttle: new LoginThrottle(),
    passkeys: new PasskeyRelyingParty(options.auth.records, options.auth.authBase),
    secure: options.auth.settings.baseUrl.startsWith('https:'),
    audit: options.audit ?? authAudit(options.services),
  };
  const form = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 200 });
  const page =
    (handler: Handler) =>
    (req: Request, res: Response, next: NextFunction): void => {
      handler(ctx, req, res).catch(next);
    };
  app.get('/auth/authorize', page(startAuthorization));
  app.post('/auth/authorize', form, page(startAuthorization));
  app.get(
    '/auth/authorize/:request',
    page((c, req, res) => showStep(c, req, res, String(req.params.request))),
  );
  app.get('/auth/login', page(loginStatus));
  app.post('/auth/login', form, page(loginWithPassword));
  app.post('/auth/login/totp', form, page(loginWithTotp));
  app.post('/auth/login/passkey/options', jsonBody, page(passkeyLoginOptions));
  app.post('/auth/login/passkey', jsonBody, page(loginWithPasskey));
  app.get('/auth/passkeys', page(showPasskeys));
  app.post('/auth/passkeys/options', jsonBody, page(passkeyRegistrationOptions));
  app.post('/auth/passkeys', jsonBody, page(addPasskey));
  app.post('/auth/passkeys/remove', form, page(removePasskey));
  app.get(PASSKEY_SCRIPT, sendPasskeyScript);
  app.post('/auth/patient', form, page(postPatient));
  app.post('/auth/consent', form, page(postConsent));
  app.get(APPS_PAGE, page(showApps));
  app.post(`${APPS_PAGE}/revoke`, form, page(revokeApp));
  app.get('/auth/logout', page(confirmLogout));
  app.post('/auth/logout', form, page(logout));
  app.get('/auth/launch', page(confirmLaunch));
  app.post('/auth/launch', form, page(launchApp));
}
