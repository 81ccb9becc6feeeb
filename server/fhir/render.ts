// Renders a FhirResponse over HTTP in one place: status, ETag, Last-Modified, Location, Content-Location,
// the Prefer return preference, _pretty, and the content type negotiated with _format and Accept.
import type { Request, Response } from 'express';
import type { Resource } from '@medplum/fhirtypes';
import { informational, notAcceptable } from '../../resources/errors';
import type { FhirBody, FhirResponse } from './context';
import { etag, parsePrefer } from './headers';

const FHIR_JSON = 'application/fhir+json';
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const XML_FORMATS = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);

export function responseBody(body: FhirBody): Resource {
  return 'resource' in body ? body.resource : (JSON.parse(body.json) as Resource);
}

/** The response media type: fhir+json unless the client asked for plain application/json. 406 for XML. */
export function negotiateContentType(req: Request): string {
  // A literal `+` (application/fhir+json) arrives form-decoded as a space.
  const format =
    typeof req.query._format === 'string'
      ? req.query._format.toLowerCase().split(';')[0].trim().replace(/ /g, '+')
      : undefined;
  if (format !== undefined) {
    if (JSON_FORMATS.has(format)) return format === 'application/json' ? 'application/json' : FHIR_JSON;
    if (XML_FORMATS.has(format)) throw notAcceptable('XML is not supported; use _format=json');
    throw notAcceptable(`Unsupported _format "${format}"`);
  }
  const accept = req.headers.accept;
  if (!accept) return FHIR_JSON;
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  if (types.some((t) => t === FHIR_JSON || t === 'application/json+fhir' || t === '*/*' || t === 'application/*'))
    return FHIR_JSON;
  if (types.includes('application/json')) return 'application/json';
  if (types.some((t) => XML_FORMATS.has(t))) throw notAcceptable('XML is not supported; ask for application/fhir+json');
  throw notAcceptable(`None of the accepted media types (${accept}) can be produced; ask for application/fhir+json`);
}

export function sendFhirResponse(
  req: Request,
  res: Response,
  response: FhirResponse,
  baseUrl: string,
  contentType: string,
): void {
  const { stored } = response;
  if (stored) {
    res.setHeader('ETag', etag(stored.versionId));
    res.setHeader('Last-Modified', new Date(stored.lastUpdated).toUTCString());
  }
  if (response.location) {
    const url = `${baseUrl}/${response.location}`;
    if (response.status === 201) res.setHeader('Location', url);
    res.setHeader('Content-Location', url);
  }
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  if (response.status === 304) {
    res.status(304).end();
    return;
  }
  const { status, text } = bodyFor(req, response);
  res.status(status);
  if (text === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', `${contentType}; charset=utf-8`);
  res.send(isPretty(req) ? JSON.stringify(JSON.parse(text), null, 2) : text);
}

/** Applies `Prefer: return=...` to writes; a 204 carries a body only when an OperationOutcome is asked for. */
function bodyFor(req: Request, response: FhirResponse): { status: number; text?: string } {
  const preference = parsePrefer(req.get('prefer')).return;
  const body = response.body;
  if (response.isWrite && preference === 'minimal') return { status: response.status };
  if (response.isWrite && preference === 'OperationOutcome') {
    const outcome =
      body && 'resource' in body && body.resource.resourceType === 'OperationOutcome'
        ? body.resource
        : informational(describeWrite(response.status));
    return { status: response.status === 204 ? 200 : response.status, text: JSON.stringify(outcome) };
  }
  if (response.status === 204 || !body) return { status: response.status };
  return { status: response.status, text: 'json' in body ? body.json : JSON.stringify(body.resource) };
}

function describeWrite(status: number): string {
  return status === 201 ? 'Created' : 'Updated';
}

function isPretty(req: Request): boolean {
  return req.query._pretty === 'true';
}
