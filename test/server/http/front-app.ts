// Test harness for the HTTP front: the real request listener on a real SQLite file, like startTestApp, but
// with the front's settings (rate limits, TLS flag, metrics token) and worker pools chosen by the test.
import fs from 'node:fs';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { createRequestListener } from '../../../server/app';
import { createLogger } from '../../../server/log';
import { closeServices, openServices } from '../../../server/services';
import { AuthService } from '../../../server/auth/service';
import type { HttpSettings } from '../../../server/http/front';
import type { RepositoryServices } from '../../../resources/repository';
import { BASE_URL, tempDir } from '../../support/app';
import { SYSTEM_SCOPE, authSettingsFor, backendKey, backendToken, registerBackendClient } from '../../support/tokens';

export interface FrontApp {
  app: RequestListener;
  services: RepositoryServices;
  auth: AuthService;
  /** A full-access token of client `test-system`. */
  token: string;
  /** Another client's token, to tell per-client limits apart. */
  tokenOf(clientId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFrontApp(
  http: HttpSettings | undefined,
  options: {
    validationWorkers?: number;
    searchWorkers?: number;
    trustProxy?: boolean;
    lifecycle?: { stopping: boolean };
  } = {},
): Promise<FrontApp> {
  const dataDir = tempDir('hms-http-');
  const { trustProxy, lifecycle, ...workers } = options;
  const services = await openServices({ dataDir, sqliteSynchronous: 'FULL', baseUrl: BASE_URL, ...workers });
  const auth = await AuthService.open(services.store, authSettingsFor(dataDir, BASE_URL));
  const app = createRequestListener({
    services,
    baseUrl: BASE_URL,
    maxBodyBytes: 1024 * 1024,
    logger: createLogger('silent'),
    auth,
    http,
    trustProxy,
    lifecycle,
  });
  const tokenOf = async (clientId: string) => {
    const key = await backendKey();
    await registerBackendClient(auth, clientId, key, SYSTEM_SCOPE);
    return backendToken(app, auth, clientId, key, SYSTEM_SCOPE);
  };
  const token = await tokenOf('test-system');
  let closed = false;
  return {
    app,
    services,
    auth,
    token,
    tokenOf,
    close: async () => {
      if (closed) return;
      closed = true;
      await auth.close();
      await closeServices(services);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const api = (t: FrontApp) => request.agent(t.app).set('Authorization', `Bearer ${t.token}`);
