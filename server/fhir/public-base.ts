// The public base URL of one request. Behind a trusted reverse proxy (TRUST_PROXY) its Forwarded (RFC 7239)
// or X-Forwarded-Proto/-Host/-Prefix headers say which scheme, host and path prefix the client called, and
// self, next, Location and fullUrl links point there; what they leave out comes from BASE_URL. Of a header
// with several values (proxies append), the last one counts: the one the trusted proxy next to us wrote.
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from '../../resources/errors';

/** Where the FHIR API is mounted on this server; a forwarded prefix goes in front of it. */
const FHIR_PATH = '/fhir';
const PROTOCOLS = new Set(['http', 'https']);
/** A host name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** Characters of a path segment: unreserved, sub-delimiters, `:`, `@` and `%` (no `?`, `#`, quotes or spaces). */
const SEGMENT = "[A-Za-z0-9._~!$&'()*+,;=:@%-]";
/** `/hospital`, `hospital/`, `/a/b` or empty. */
const PREFIX = new RegExp(`^/?(?:${SEGMENT}+/)*${SEGMENT}*$`);

export function publicBaseUrl(configured: string, headers: IncomingHttpHeaders): string {
  const forwarded = lastForwardedElement(headers.forwarded);
  const proto = forwarded.proto ?? lastValue(headers['x-forwarded-proto']);
  const host = forwarded.host ?? lastValue(headers['x-forwarded-host']);
  const prefix = lastValue(headers['x-forwarded-prefix']);
  if (proto === undefined && host === undefined && prefix === undefined) return configured;
  const base = new URL(configured);
  const scheme = checkedProto(proto, forwarded.proto !== undefined) ?? base.protocol.slice(0, -1);
  const authority = checkedHost(host, forwarded.host !== undefined) ?? base.host;
  const path = prefix === undefined ? base.pathname.replace(/\/+$/, '') : `${checkedPrefix(prefix)}${FHIR_PATH}`;
  return `${scheme}://${authority}${path}`;
}

function checkedProto(proto: string | undefined, fromForwarded: boolean): string | undefined {
  if (proto === undefined) return undefined;
  const lower = proto.toLowerCase();
  if (!PROTOCOLS.has(lower)) {
    const header = fromForwarded ? 'Forwarded' : 'X-Forwarded-Proto';
    throw badRequest(`${header} must name the protocol http or https, got "${proto}"`, header);
  }
  return lower;
}

function checkedHost(host: string | undefined, fromForwarded: boolean): string | undefined {
  if (host === undefined) return undefined;
  if (!HOST.test(host)) {
    const header = fromForwarded ? 'Forwarded' : 'X-Forwarded-Host';
    throw badRequest(`${header} must name a host such as fhir.example.org or fhir.example.org:8443`, header);
  }
  return host.toLowerCase();
}

function checkedPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw badRequest('X-Forwarded-Prefix must be a URL path such as /hospital', 'X-Forwarded-Prefix');
  }
  const segments = prefix.split('/').filter((s) => s !== '');
  return segments.map((s) => `/${s}`).join('');
}

/** The last of the comma-separated values of a header (also over repeated header lines). */
function lastValue(header: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(header) ? header.join(',') : header;
  const last = joined?.split(',').pop()?.trim();
  return last === undefined || last === '' ? undefined : last;
}

/** `proto` and `host` of the last element of a Forwarded header: `for=…;proto=https;host="a.org:8443"`. */
function lastForwardedElement(header: string | string[] | undefined): { proto?: string; host?: string } {
  const element = lastValue(header);
  if (element === undefined) return {};
  const pairs: { proto?: string; host?: string } = {};
  for (const pair of element.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    const name = pair.slice(0, equals).trim().toLowerCase();
    const value = pair
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if ((name === 'proto' || name === 'host') && value !== '') pairs[name] = value;
  }
  return pairs;
}
