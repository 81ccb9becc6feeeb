// The HTTP front's settings read through loadConfig: rate-limit defaults, 0 = off, refusals naming the
// variable, and the METRICS_TOKEN's shape. (TLS files: tls.test.ts.)
import { ConfigError, loadConfig } from '../../../server/config';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

test('defaults: generous limits per IP and per client, no metrics token, no TLS', () => {
  expect(loadConfig({}).http).toEqual({ rateLimitPerMinute: 6000, rateLimitClientPerMinute: 6000 });
});

test('limits are parsed, and 0 turns one off', () => {
  const http = loadConfig({ RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_CLIENT_PER_MINUTE: '120' }).http;
  expect(http).toMatchObject({ rateLimitPerMinute: 0, rateLimitClientPerMinute: 120 });
});

test.each([
  ['RATE_LIMIT_PER_MINUTE', '-1'],
  ['RATE_LIMIT_PER_MINUTE', 'lots'],
  ['RATE_LIMIT_CLIENT_PER_MINUTE', '1.5'],
])('%s=%s is refused by name', (name, value) => {
  expect(refusal({ [name]: value })).toBe(`${name} must be an integer between 0 and 10000000, got "${value}"`);
});

test('METRICS_TOKEN is kept when long enough and shaped like a bearer token', () => {
  expect(loadConfig({ METRICS_TOKEN: 'a'.repeat(16) }).http.metricsToken).toBe('a'.repeat(16));
  expect(refusal({ METRICS_TOKEN: 'short' })).toBe('METRICS_TOKEN must have at least 16 characters');
  expect(refusal({ METRICS_TOKEN: 'has a space in it, long enough' })).toMatch(/^METRICS_TOKEN may contain only/);
});
