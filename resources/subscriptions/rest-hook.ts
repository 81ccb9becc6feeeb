// Sends one notification over a rest-hook channel. Topic subscriptions (Backport IG) POST the notification
// Bundle with Content-Type = channel.payload; R4 criteria-based ones POST an empty body (no payload) or PUT the
// resource to [endpoint]/[Type]/[id]. Each channel header is sent; a 2xx within the timeout is a delivery.
// Node's http client with keep-alive agents: a busy subscriber gets one connection reused, not one per event.
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { SubscriptionChannel } from './definition';

export const DEFAULT_TIMEOUT_SECONDS = 10;

export type RestHookMessage = { bundle: Bundle } | { resource?: Resource; focus?: string };

export interface DeliveryOutcome {
  ok: boolean;
  /** Why it failed: the status or the network error, never the body (it may hold PHI). */
  error?: string;
}

const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 8 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

export function sendRestHook(channel: SubscriptionChannel, message: RestHookMessage): Promise<DeliveryOutcome> {
  const headers: Record<string, string> = {};
  for (const line of channel.headers) {
    const split = line.indexOf(':');
    headers[line.slice(0, split).trim().toLowerCase()] = line.slice(split + 1).trim();
  }
  let url = new URL(channel.endpoint as string);
  let method = 'POST';
  let body = '';
  if ('bundle' in message) {
    headers['content-type'] = channel.payload ?? 'application/fhir+json';
    body = JSON.stringify(message.bundle);
  } else if (message.resource && message.focus) {
    url = new URL(`${url.href.replace(/\/$/, '')}/${message.focus}`);
    method = 'PUT';
    headers['content-type'] = channel.payload ?? 'application/fhir+json';
    body = JSON.stringify(message.resource);
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  const client = url.protocol === 'https:' ? https : http;
  const timeoutMs = (channel.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const target = requestTarget(url);
  return new Promise((resolve) => {
    const request = client.request({ ...target, method, headers, agent: AGENTS[url.protocol as 'http:' | 'https:'] });
    const timer = setTimeout(() => request.destroy(new Error('timed out')), timeoutMs);
    request.on('response', (response) => {
      response.on('error', () => resolve({ ok: false, error: 'the endpoint closed the connection' }));
      response.resume();
      response.on('end', () => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `the endpoint answered ${status}` });
      });
    });
    request.on('error', (error: Error & { code?: string }) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `the endpoint could not be reached: ${error.code ?? error.message}` });
    });
    request.end(body);
  });
}

/** Endpoints seen: a few per subscriber, so the map is small; it is emptied should it ever grow large. */
const TARGETS = new Map<string, http.RequestOptions>();
const MAX_TARGETS = 1000;

/**
 * The request options of a URL, converted once per endpoint: handing http.request the URL converts it at
 * every call, a quarter of the client's CPU per notification.
 */
function requestTarget(url: URL): http.RequestOptions {
  let target = TARGETS.get(url.href);
  if (!target) {
    if (TARGETS.size >= MAX_TARGETS) TARGETS.clear();
    target = urlToHttpOptions(url);
    TARGETS.set(url.href, target);
  }
  return target;
}
