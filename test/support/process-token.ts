// A full-access token for a server running as a child process: a backend client is registered in its DATA_DIR
// (as `hms client add` would, while it runs) and the token comes from the server's own token endpoint.
import { randomUUID } from 'node:crypto';
import { AuthService } from '../../server/auth/service';
import { SYSTEM_SCOPE, authSettingsFor, backendKey, clientCredentialsForm, registerBackendClient } from './tokens';

export async function processToken(dataDir: string, baseUrl: string): Promise<string> {
  const auth = await AuthService.open(undefined, authSettingsFor(dataDir, baseUrl));
  try {
    const key = await backendKey();
    const clientId = `process-${randomUUID()}`;
    await registerBackendClient(auth, clientId, key, SYSTEM_SCOPE);
    const res = await fetch(auth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(await clientCredentialsForm(auth, clientId, key, SYSTEM_SCOPE)),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`Token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  } finally {
    await auth.close();
  }
}
