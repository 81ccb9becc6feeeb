// The decisions of the Binary endpoint that depend on media types only (R4 http.html "Binary"): whether a body
// is a Binary resource or raw content, whether a read answers the resource or the raw bytes, and which stored
// content types a browser would run, so they are served as downloads.
import { badRequest, notAcceptable, tooLarge } from '../../resources/errors';
import { negotiateContentType } from './render';

/** Media types that carry a FHIR resource: a body of one of them is a Binary resource, not its content. */
const FHIR_JSON_TYPES = new Set(['application/fhir+json', 'application/json+fhir', 'application/json']);
const FHIR_XML_TYPES = new Set(['application/fhir+xml', 'application/xml+fhir']);

/** A body without a Content-Type is read as FHIR JSON, as everywhere else in the API. */
export function isFhirMediaType(type: string | undefined): boolean {
  return type === undefined || FHIR_JSON_TYPES.has(type);
}

const TOKEN = "[a-z0-9!#$&^_.+'*`|~-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);
const PARAMETER = new RegExp(`^${TOKEN}=(?:${TOKEN}|"[^"\\\\\\r\\n]*")$`);

/**
 * The Content-Type of raw content as Binary.contentType: type and subtype in lower case, parameters (such as
 * charset) kept, joined by `; `. 400 when it is not a media type, so nothing odd is ever echoed in a header.
 */
export function binaryContentType(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw badRequest('Raw Binary content needs a Content-Type naming its media type');
  }
  const [type, ...parameters] = header.split(';').map((part) => part.trim());
  const mediaType = type.toLowerCase();
  const valid = MEDIA_TYPE.test(mediaType) && parameters.every((p) => PARAMETER.test(p.toLowerCase()));
  if (!valid) throw badRequest('The Content-Type is not a valid media type', 'Binary.contentType');
  return [mediaType, ...parameters].join('; ');
}

/**
 * The content type to serve: a Binary written through a Bundle or by an older server has not passed the
 * check above, and a header must never carry what a client smuggled in.
 */
export function servableContentType(contentType: string | undefined): string {
  try {
    return binaryContentType(contentType);
  } catch {
    return 'application/octet-stream';
  }
}

/** What a read answers: the Binary resource as JSON (in this content type), or the content itself. */
export type BinaryReadForm = { form: 'resource'; contentType: string } | { form: 'raw' };

interface AcceptedType {
  type: string;
  q: number;
}

/**
 * _format wins, as everywhere in the API. Then Accept: a FHIR JSON type asks for the resource; the stored
 * content type, a range covering it, `*\/*`, or no Accept at all ask for the content; anything else is a 406.
 */
export function negotiateBinaryRead(
  format: string | undefined,
  accept: string | undefined,
  contentType: string,
): BinaryReadForm {
  if (format !== undefined) return { form: 'resource', contentType: negotiateContentType(format, undefined) };
  if (accept === undefined || accept.trim() === '') return { form: 'raw' };
  const accepted = acceptedTypes(accept);
  const fhir = accepted.filter((a) => FHIR_JSON_TYPES.has(a.type)).map((a) => a.type);
  if (fhir.length > 0) return { form: 'resource', contentType: negotiateContentType(undefined, fhir.join(', ')) };
  const stored = contentType.split(';')[0].trim().toLowerCase();
  if (accepted.some((a) => covers(a.type, stored))) return { form: 'raw' };
  if (accepted.some((a) => FHIR_XML_TYPES.has(a.type))) {
    throw notAcceptable('XML is not supported; ask for application/fhir+json');
  }
  throw notAcceptable(`This Binary holds ${stored}: ask for it, for */*, or for application/fhir+json`);
}

/** Accept's media ranges without parameters, lower case, leaving out those with q=0. */
function acceptedTypes(accept: string): AcceptedType[] {
  return accept
    .split(',')
    .map((range) => {
      const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
      const q = parameters.find((p) => p.startsWith('q='));
      return { type, q: q === undefined ? 1 : Number(q.slice(2)) };
    })
    .filter((a) => a.type !== '' && !(a.q <= 0));
}

function covers(range: string, type: string): boolean {
  if (range === '*/*' || range === type) return true;
  return range.endsWith('/*') && type.startsWith(range.slice(0, -1));
}

/** Types a browser renders with scripts running (HTML, SVG, XML, scripts): served as attachments. */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'text/ecmascript',
  'application/ecmascript',
  'application/x-shockwave-flash',
  'multipart/x-mixed-replace',
]);

export function isActiveContent(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return ACTIVE_TYPES.has(type) || type.endsWith('+xml');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HAS_WHITESPACE = /\s/;
const WHITESPACE = /\s+/g;

/**
 * Checks Binary.data of a JSON upload: base64 (whitespace allowed, as in R4's base64Binary) whose decoded
 * size is within the limit; 400 or 413 otherwise. Returns it without whitespace, which the validator refuses
 * and the stored bytes do not keep anyway.
 */
export function checkBase64Data(data: unknown, maxBytes: number): string | undefined {
  if (data === undefined) return undefined;
  // R4 has no empty strings; an empty body is a Binary without data, but "" in JSON is a mistake.
  if (data === '') throw badRequest('Binary.data must not be empty: leave it out', 'Binary.data');
  if (typeof data !== 'string') throw badRequest('Binary.data must be a base64 string', 'Binary.data');
  const compact = HAS_WHITESPACE.test(data) ? data.replace(WHITESPACE, '') : data;
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw badRequest('Binary.data is not valid base64', 'Binary.data');
  }
  if (Buffer.byteLength(compact, 'base64') > maxBytes) throw tooLargeContent(maxBytes);
  return compact;
}

export function tooLargeContent(maxBytes: number) {
  return tooLarge(`The Binary content is larger than the server accepts (BINARY_MAX_BYTES, ${maxBytes} bytes)`);
}
