// A full-access token for a server running as a child process: a backend client is registered in its DATA_DIR
// (as `hms client add` would, while it runs) and the token comes from the server's own token endpoint.
import { randomUUID } from 'node:crypto';
import { AuthService } from '../../server/auth/service';
import { SYSTEM_SCOPE, authSettingsFor, backendKey, clientCredentialsForm, registerBackendClient } from './tokens';

export async function processToken(dataDir: string, baseUrl: string): Promise<string> {
  return (await processTokens(dataDir, baseUrl))();
}

/**
 * Registers one backend client and returns a function that gets a fresh token for it: for runs that outlast a
 * token (backend tokens live 5 minutes) and must stay the same client (a bulk export answers only its client).
 */
export async function processTokens(dataDir: string, baseUrl: string): Promise<() => Promise<string>> {
  const key = await backendKey();
  const clientId = `process-${randomUUID()}`;
  await withAuth(dataDir, baseUrl, (auth) => registerBackendClient(auth, clientId, key, SYSTEM_SCOPE));
  return () =>
    withAuth(dataDir, baseUrl, async (auth) => {
      const res = await fetch(auth.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(await clientCredentialsForm(auth, clientId, key, SYSTEM_SCOPE)),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`Token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    });
}

/** The server's auth store, opened beside the running server for one piece of work. */
async function withAuth<T>(dataDir: string, baseUrl: string, work: (auth: AuthService) => Promise<T>): Promise<T> {
  const auth = await AuthService.open(undefined, authSettingsFor(dataDir, baseUrl));
  try {
    return await work(auth);
  } finally {
    await auth.close();
  }
}
