// The read hot path without Express: `GET /fhir/{type}/{id}` with no query, no conditional headers and a
// JSON-compatible Accept is answered straight from the repository (same access checks, same headers).
// Anything else, every error, and bodies that should be compressed go through the full app instead.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Repository, type RepositoryServices } from '../../resources/repository';
import type { Logger } from '../log';
import { logRequest, requestIdOf } from '../request-log';
import { etag } from './headers';

const READ_PATH = /^\/fhir\/([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})$/;
const ACCEPTED = /(^|,)\s*(application\/fhir\+json|application\/json\+fhir|\*\/\*|application\/\*)\s*(;|,|$)/i;
/** Same threshold as the app's compression middleware. */
const COMPRESS_ABOVE = 1024;

export type FastRead = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Resolves true when it answered; false when the caller must hand the request to the full app. */
export function fastRead(services: RepositoryServices, logger: Logger): FastRead {
  return async (req, res) => {
    const match = req.method === 'GET' ? READ_PATH.exec(req.url ?? '') : null;
    if (!match || !plainRead(req)) return false;
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    const repo = new Repository(services, { actor: 'anonymous', requestId });
    const stored = await repo.read(match[1], match[2]).catch(() => undefined);
    if (
      !stored?.json ||
      (stored.json.length > COMPRESS_ABOVE && /gzip|deflate|br/.test(String(req.headers['accept-encoding'])))
    ) {
      return false;
    }
    res.writeHead(200, {
      'X-Request-Id': requestId,
      ETag: etag(stored.versionId),
      'Last-Modified': new Date(stored.lastUpdated).toUTCString(),
      'Content-Type': 'application/fhir+json; charset=utf-8',
      'Content-Length': Buffer.byteLength(stored.json),
      Vary: 'Accept-Encoding',
    });
    res.end(stored.json);
    logRequest(logger, { requestId, method: 'GET', route: '/fhir/:type/:id', status: 200, started });
    return true;
  };
}

function plainRead(req: IncomingMessage): boolean {
  const { accept } = req.headers;
  return (
    req.headers['if-none-match'] === undefined &&
    req.headers['if-modified-since'] === undefined &&
    (accept === undefined || ACCEPTED.test(accept))
  );
}
