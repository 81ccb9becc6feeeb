// Fetches a backend client's registered JWKS URL without opening the server to SSRF: https only, the host must
// resolve to public addresses only (no loopback, private, link-local or metadata ranges), a short timeout, a
// size cap, and the response cached no longer than its Cache-Control allows.
import dns from 'node:dns/promises';
import https from 'node:https';
import net from 'node:net';
import type { JWK } from 'jose';

const TIMEOUT_MS = 5000;
const MAX_BYTES = 64 * 1024;
const MAX_CACHE_MS = 60 * 60_000;

const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  BLOCKED.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  BLOCKED.addSubnet(address, prefix, 'ipv6');

export class JwksFetchError extends Error {}

const cache = new Map<string, { jwks: { keys: JWK[] }; until: number }>();

/** True for an address the server must never be made to contact on a client's behalf. */
export function isBlockedAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return BLOCKED.check(mapped, 'ipv4');
  return BLOCKED.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
}

export async function fetchJwks(url: string): Promise<{ keys: JWK[] }> {
  const cached = cache.get(url);
  if (cached && cached.until > Date.now()) return cached.jwks;
  const target = new URL(url);
  if (target.protocol !== 'https:') throw new JwksFetchError('The JWKS URL must use https');
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  if (addresses.length === 0 || addresses.some(isBlockedAddress)) {
    throw new JwksFetchError('The JWKS URL resolves to an address the server does not contact');
  }
  const { body, maxAgeMs } = await get(target, addresses[0]);
  const jwks = JSON.parse(body) as { keys: JWK[] };
  if (!Array.isArray(jwks?.keys)) throw new JwksFetchError('The JWKS URL did not return a JWK Set');
  if (maxAgeMs > 0) cache.set(url, { jwks, until: Date.now() + Math.min(maxAgeMs, MAX_CACHE_MS) });
  return jwks;
}

function get(url: URL, address: string): Promise<{ body: string; maxAgeMs: number }> {
  return new Promise((resolve, reject) => {
    // Connect to the address that was checked, so a second DNS answer cannot point elsewhere.
    const request = https.get(
      url,
      { timeout: TIMEOUT_MS, lookup: (_h, _o, done) => done(null, address, net.isIPv6(address) ? 6 : 4) },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new JwksFetchError(`The JWKS URL answered ${response.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) {
            request.destroy(new JwksFetchError('The JWKS is larger than the server accepts'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            body: Buffer.concat(chunks).toString('utf8'),
            maxAgeMs: maxAge(response.headers['cache-control']),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new JwksFetchError('The JWKS URL did not answer in time')));
    request.on('error', reject);
  });
}

function maxAge(cacheControl: string | undefined): number {
  if (!cacheControl || /no-store|no-cache/i.test(cacheControl)) return 0;
  const match = /max-age=(\d+)/i.exec(cacheControl);
  return match ? Number(match[1]) * 1000 : 0;
}
