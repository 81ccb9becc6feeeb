// Where rest-hook notifications may go: only to hosts the hospital lists (SUBSCRIPTION_ENDPOINT_HOSTS), so a
// Subscription cannot be used to make the server probe its own network. Loopback is allowed without listing
// only while the server itself listens on loopback (a developer's machine).
import type { EndpointPolicy } from './definition';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** `hosts`: exact host names or `*.domain` patterns (any subdomain of domain). */
export function endpointPolicy(hosts: readonly string[], serverOnLoopback: boolean): EndpointPolicy {
  const exact = new Set(hosts.filter((h) => !h.startsWith('*.')).map((h) => h.toLowerCase()));
  const domains = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1).toLowerCase());
  return (url) => {
    const host = url.hostname.toLowerCase();
    if (exact.has(host) || domains.some((domain) => host.endsWith(domain))) return true;
    return serverOnLoopback && LOOPBACK.test(host);
  };
}

/** Whether a listen address is loopback only (so the server is not reachable from elsewhere). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host) || host === '::1';
}
