// CORS for browser apps on other origins: the FHIR API and the token endpoint answer the origins of the
// registered clients' redirect URIs and those in CORS_ORIGINS, never `*` with credentials. Discovery and
// metadata are public and answer any origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { AuthService } from './service';

const ORIGINS_REFRESH_MS = 10_000;
const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer, X-Request-Id';
const EXPOSED_HEADERS = 'Location, ETag, Last-Modified, Content-Location, X-Request-Id, WWW-Authenticate';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

export class CorsPolicy {
  private origins = new Set<string>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly auth: AuthService) {}

  async allows(origin: string): Promise<boolean> {
    if (Date.now() - this.loadedAt > ORIGINS_REFRESH_MS) await (this.loading ??= this.load());
    return this.origins.has(origin);
  }

  /** Sets the CORS headers for an allowed origin; true when the request was a preflight and is answered. */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const origin = req.headers.origin;
    if (!origin) return false;
    res.setHeader('Vary', 'Origin');
    if (!(await this.allows(origin))) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method !== 'OPTIONS') return false;
    res.setHeader('Access-Control-Allow-Methods', METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.statusCode = 204;
    res.end();
    return true;
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      this.apply(req, res).then((answered) => (answered ? undefined : next()), next);
    };
  }

  private async load(): Promise<void> {
    try {
      const origins = new Set(this.auth.settings.corsOrigins);
      for (const client of await this.auth.clients.list()) {
        if (!client.active) continue;
        for (const uri of [...client.redirectUris, ...(client.launchUrl ? [client.launchUrl] : [])]) {
          origins.add(new URL(uri).origin);
        }
      }
      this.origins = origins;
      this.loadedAt = Date.now();
    } finally {
      this.loading = undefined;
    }
  }
}
