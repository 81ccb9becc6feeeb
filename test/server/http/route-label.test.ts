// Metrics labels are route patterns: the FHIR path classified like the router does, without types, ids,
// versions or query values; an unknown operation or an odd path is `unmatched`, so labels stay few.
import { fhirRouteLabel } from '../../../server/http/route-label';
import { RequestMetrics } from '../../../server/http/request-metrics';
import { Registry } from 'prom-client';

test.each([
  ['/fhir', '/fhir'],
  ['/fhir/', '/fhir'],
  ['/fhir?_type=Patient', '/fhir'],
  ['/fhir/metadata', '/fhir/metadata'],
  ['/fhir/metadata?_format=json', '/fhir/metadata'],
  ['/fhir/_history', '/fhir/_history'],
  ['/fhir/_search', '/fhir/_search'],
  ['/fhir/$reindex', '/fhir/$reindex'],
  ['/fhir/$no-such-operation', 'unmatched'],
  ['/fhir/_nonsense', 'unmatched'],
  ['/fhir/Patient', '/fhir/:type'],
  ['/fhir/Patient?name=smith&birthdate=1980', '/fhir/:type'],
  ['/fhir/Patient/', '/fhir/:type'],
  ['/fhir//Patient', '/fhir/:type'],
  ['/fhir/Patient/_history', '/fhir/:type/_history'],
  ['/fhir/Patient/_search', '/fhir/:type/_search'],
  ['/fhir/Patient/$validate', '/fhir/:type/$validate'],
  ['/fhir/Patient/123', '/fhir/:type/:id'],
  ['/fhir/Patient/123?_summary=true', '/fhir/:type/:id'],
  ['/fhir/metadata/123', 'unmatched'],
  ['/fhir/_history/123', 'unmatched'],
  ['/fhir/Patient/_other', 'unmatched'],
  ['/fhir/Patient/123/_history', '/fhir/:type/:id/_history'],
  ['/fhir/Patient/123/$validate', '/fhir/:type/:id/$validate'],
  ['/fhir/Patient/123/Observation', '/fhir/:type/:id/:compartment'],
  ['/fhir/Patient/123/Observation?code=1234-5', '/fhir/:type/:id/:compartment'],
  ['/fhir/Patient/123/_other', 'unmatched'],
  ['/fhir/Patient/_x/Observation', 'unmatched'],
  ['/fhir/Patient/123/_history/2', '/fhir/:type/:id/_history/:vid'],
  ['/fhir/Patient/123/Observation/2', 'unmatched'],
  ['/fhir/Patient/123/_history/2/more', 'unmatched'],
])('%s -> %s', (url, label) => {
  expect(fhirRouteLabel(url)).toBe(label);
});

test('request metrics render as a Prometheus counter and a cumulative histogram', async () => {
  const metrics = new RequestMetrics();
  metrics.observe('/fhir/:type/:id', 'GET', 200, 0.003);
  metrics.observe('/fhir/:type/:id', 'GET', 200, 0.2);
  metrics.observe('/fhir/:type/:id', 'GET', 200, 30);
  metrics.observe('/fhir/:type', 'BREW', 999, 0.001);
  const registry = new Registry();
  metrics.register(registry, 'x_');
  const text = await registry.metrics();
  expect(text).toContain('# TYPE x_http_requests_total counter');
  expect(text).toContain('x_http_requests_total{route="/fhir/:type/:id",method="GET",status="200"} 3');
  expect(text).toContain('x_http_requests_total{route="/fhir/:type",method="other",status="0"} 1');
  expect(text).toContain('# TYPE x_http_request_duration_seconds histogram');
  const bucket = (le: string) =>
    `x_http_request_duration_seconds_bucket{route="/fhir/:type/:id",method="GET",status="200",le="${le}"}`;
  expect(text).toContain(`${bucket('0.001')} 0`);
  expect(text).toContain(`${bucket('0.005')} 1`);
  expect(text).toContain(`${bucket('0.25')} 2`);
  expect(text).toContain(`${bucket('10')} 2`);
  expect(text).toContain(`${bucket('+Inf')} 3`);
  expect(text).toContain('x_http_request_duration_seconds_count{route="/fhir/:type/:id",method="GET",status="200"} 3');
  expect(text).toMatch(
    /x_http_request_duration_seconds_sum\{route="\/fhir\/:type\/:id",method="GET",status="200"\} 30\.20/,
  );
});
