// The token endpoint under load: a backend client registered in the server's DATA_DIR, and one signed
// client_credentials assertion (ES384, unique jti) per request, all made before the clock starts so that
// signing does not take the server's CPU while it is measured.
import { AuthService } from '../../server/auth/service';
import { authSettingsFor, backendKey, clientCredentialsForm, registerBackendClient } from '../support/tokens';
import type { LoadOptions, RequestSpec } from './load';

const SCOPE = 'system/Patient.rs system/Observation.rs';

/** `count` ready token request bodies for a new backend client of the server at `baseUrl`. */
export async function tokenRequestBodies(dataDir: string, baseUrl: string, count: number): Promise<string[]> {
  const auth = await AuthService.open(undefined, authSettingsFor(dataDir, baseUrl));
  try {
    const key = await backendKey('ES384');
    await registerBackendClient(auth, 'bench-backend', key, SCOPE);
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) {
      const form = await clientCredentialsForm(auth, 'bench-backend', key, SCOPE, 290);
      bodies.push(new URLSearchParams(form).toString());
    }
    return bodies;
  } finally {
    await auth.close();
  }
}

export function tokenRequests(bodies: string[]): LoadOptions['next'] {
  let n = 0;
  return (): RequestSpec => ({
    method: 'POST',
    path: '/auth/token',
    body: bodies[n++ % bodies.length],
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
  });
}
