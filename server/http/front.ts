// The HTTP front, in front of both the FHIR edge and the Express app: security headers, the request timer
// for /metrics, the per-IP rate limit; and, mounted first on the Express app, the probes, /metrics and the
// app's own headers. Its per-request work is a few setHeader calls, a timer and one finish listener shared by
// every request (state sits on the response, so no closure is made per request).
import type { RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { RepositoryServices } from '../../resources/repository';
import type { Hl7Bridge } from '../../integrations/hl7v2/bridge';
import type { Authenticator } from '../auth/authenticate';
import { HEALTH_PATHS, mountHealth } from './health';
import type { HttpConfig } from './http-config';
import { ServerMetrics } from './metrics';
import { clientLimited, ipLimiter, type IpLimiter } from './rate-limit';
import { expressRouteLabel, fhirRouteLabel } from './route-label';
import { appSecurityHeaders, setCommonHeaders, setFhirCacheHeaders } from './security-headers';

/** The front's settings; without them (tests, embedding) there are no rate limits and no TLS. */
export type HttpSettings = Pick<HttpConfig, 'rateLimitPerMinute' | 'rateLimitClientPerMinute' | 'metricsToken'> & {
  tls?: unknown;
};

export const NO_LIMITS: HttpSettings = { rateLimitPerMinute: 0, rateLimitClientPerMinute: 0 };

export interface HttpFrontOptions {
  services: RepositoryServices;
  hl7?: Hl7Bridge;
  http?: HttpSettings;
  /** TRUST_PROXY: the per-IP limit counts the address the proxy forwards. */
  trustProxy?: boolean;
  /** Set by main.ts once a graceful stop began: /readyz answers 503 so balancers stop sending. */
  lifecycle?: { stopping: boolean };
}

interface TimedResponse extends ServerResponse {
  hmsStarted?: number;
  /** The route pattern when known up front (the FHIR API); else the Express route's, read at the end. */
  hmsRoute?: string;
  hmsMetrics?: ServerMetrics;
}

const FHIR_PATH = /^\/fhir(?:[/?]|$)/;
const NOT_FHIR_EDGE = /^\/fhir\/\.well-known\//;
const PROBES = new Set([...HEALTH_PATHS, '/metrics']);

/** Probes and /metrics are never rate limited: monitoring must see a throttled server too. */
const isProbe = (url: string) => PROBES.has(url.split('?', 1)[0]);

export class HttpFront {
  readonly metrics: ServerMetrics;
  private readonly settings: HttpSettings;
  private readonly limiter: IpLimiter | undefined;

  constructor(private readonly options: HttpFrontOptions) {
    this.settings = options.http ?? NO_LIMITS;
    this.metrics = new ServerMetrics(options.services, options.hl7);
    this.limiter = ipLimiter(this.settings.rateLimitPerMinute, isProbe, options.trustProxy);
  }

  /** The request listener: front work, then `dispatch` (the FHIR edge or the Express app). */
  listener(dispatch: RequestListener): RequestListener {
    const tls = Boolean(this.settings.tls);
    const { limiter, metrics } = this;
    return (req, res) => {
      const timed = res as TimedResponse;
      timed.hmsStarted = performance.now();
      timed.hmsMetrics = metrics;
      res.on('finish', recordRequest);
      setCommonHeaders(res, tls);
      const url = req.url ?? '/';
      if (FHIR_PATH.test(url) && !NOT_FHIR_EDGE.test(url)) {
        timed.hmsRoute = fhirRouteLabel(url);
        setFhirCacheHeaders(res, timed.hmsRoute === '/fhir/metadata');
      }
      if (!limiter) return dispatch(req, res);
      limiter(req, res, () => dispatch(req, res));
    };
  }

  /** The FHIR API's authenticator with the per-client limit. */
  limitClients(authenticate: Authenticator): Authenticator {
    return clientLimited(authenticate, this.settings.rateLimitClientPerMinute);
  }

  /** First on the Express app: its headers, the probes and /metrics (before any route that needs a token). */
  mount(app: Express): void {
    app.use(appSecurityHeaders());
    mountHealth(app, this.options.services, this.options.lifecycle);
    this.metrics.mount(app, this.settings.metricsToken);
  }
}

/** The one 'finish' listener of every response. */
function recordRequest(this: TimedResponse): void {
  const route = this.hmsRoute ?? expressRouteLabel(this.req);
  const seconds = (performance.now() - (this.hmsStarted ?? 0)) / 1000;
  this.hmsMetrics?.requests.observe(route, this.req.method, this.statusCode, seconds);
}
