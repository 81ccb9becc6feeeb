// TRUST_PROXY: whether the server runs behind a reverse proxy whose Forwarded (RFC 7239) and
// X-Forwarded-Proto/-Host/-Prefix headers say under which public URL a request arrived. Off by default, and
// then those headers are ignored: without a proxy that sets them, any client could.
import { flag, type Env } from './env';

export interface ProxyConfig {
  /** Links (self, next, Location, fullUrl) follow the forwarding headers of the trusted proxy. */
  trustProxy: boolean;
}

export function loadProxyConfig(env: Env): ProxyConfig {
  return { trustProxy: flag(env, 'TRUST_PROXY', false) };
}
