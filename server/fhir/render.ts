// Renders a FhirResponse over HTTP in one place: status, ETag, Last-Modified, Location, Content-Location,
// the Prefer return preference, _pretty, gzip, and the content type negotiated with _format and Accept.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzip } from 'node:zlib';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { informational, notAcceptable } from '../../resources/errors';
import type { FhirBody, FhirResponse } from './context';
import { etag, parsePrefer } from './headers';

const FHIR_JSON = 'application/fhir+json';
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const XML_FORMATS = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);
/** Bodies above this size are gzipped for clients that accept it. */
const COMPRESS_ABOVE = 1024;

export function responseBody(body: FhirBody): Resource {
  return 'resource' in body ? body.resource : (JSON.parse(body.json) as Resource);
}

/** The response media type: fhir+json unless the client asked for plain application/json. 406 for XML. */
export function negotiateContentType(formatParameter: string | undefined, accept: string | undefined): string {
  if (formatParameter !== undefined) {
    // A literal `+` (application/fhir+json) arrives form-decoded as a space.
    const format = formatParameter.toLowerCase().split(';')[0].trim().replace(/ /g, '+');
    if (JSON_FORMATS.has(format)) return format === 'application/json' ? 'application/json' : FHIR_JSON;
    if (XML_FORMATS.has(format)) throw notAcceptable('XML is not supported; use _format=json');
    throw notAcceptable(`Unsupported _format "${format}"`);
  }
  if (!accept) return FHIR_JSON;
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  if (types.some((t) => t === FHIR_JSON || t === 'application/json+fhir' || t === '*/*' || t === 'application/*')) {
    return FHIR_JSON;
  }
  if (types.includes('application/json')) return 'application/json';
  if (types.some((t) => XML_FORMATS.has(t))) throw notAcceptable('XML is not supported; ask for application/fhir+json');
  throw notAcceptable(`None of the accepted media types (${accept}) can be produced; ask for application/fhir+json`);
}

export interface RenderOptions {
  baseUrl: string;
  contentType: string;
  pretty: boolean;
}

export function sendFhirResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: FhirResponse,
  options: RenderOptions,
): void {
  const { stored } = response;
  if (stored) {
    res.setHeader('ETag', etag(stored.versionId));
    res.setHeader('Last-Modified', new Date(stored.lastUpdated).toUTCString());
  }
  if (response.location) {
    const url = `${options.baseUrl}/${response.location}`;
    if (response.status === 201) res.setHeader('Location', url);
    res.setHeader('Content-Location', url);
  }
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  const { status, text } = response.status === 304 ? { status: 304 } : bodyFor(req, response);
  if (text === undefined) {
    res.writeHead(status).end();
    return;
  }
  sendText(req, res, status, options.contentType, options.pretty ? JSON.stringify(JSON.parse(text), null, 2) : text);
}

export function sendOutcome(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  outcome: OperationOutcome,
): void {
  sendText(req, res, status, FHIR_JSON, JSON.stringify(outcome));
}

/** Writes a JSON body, gzipped when it is large enough and the client accepts gzip. */
function sendText(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, text: string): void {
  res.setHeader('Content-Type', `${contentType}; charset=utf-8`);
  res.setHeader('Vary', 'Accept-Encoding');
  const body = Buffer.from(text, 'utf8');
  if (body.length <= COMPRESS_ABOVE || !acceptsGzip(req)) {
    res.setHeader('Content-Length', body.length);
    res.writeHead(status).end(body);
    return;
  }
  gzip(body, (error, zipped) => {
    if (error) {
      res.setHeader('Content-Length', body.length);
      res.writeHead(status).end(body);
      return;
    }
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', zipped.length);
    res.writeHead(status).end(zipped);
  });
}

function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** Applies `Prefer: return=...` to writes; a 204 carries a body only when an OperationOutcome is asked for. */
function bodyFor(req: IncomingMessage, response: FhirResponse): { status: number; text?: string } {
  const preference = parsePrefer(header(req, 'prefer')).return;
  const body = response.body;
  if (response.isWrite && preference === 'minimal') return { status: response.status };
  if (response.isWrite && preference === 'OperationOutcome') {
    const outcome =
      body && 'resource' in body && body.resource.resourceType === 'OperationOutcome'
        ? body.resource
        : informational(response.status === 201 ? 'Created' : 'Updated');
    return { status: response.status === 204 ? 200 : response.status, text: JSON.stringify(outcome) };
  }
  if (response.status === 204 || !body) return { status: response.status };
  return { status: response.status, text: 'json' in body ? body.json : JSON.stringify(body.resource) };
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
