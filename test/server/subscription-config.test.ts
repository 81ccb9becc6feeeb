// SUBSCRIPTION_ENDPOINT_HOSTS: host names and *.domain patterns, refused when malformed; loopback follows HOST.
import { ConfigError, loadConfig } from '../../server/config';

test('endpoint hosts are read from a comma list; loopback is allowed only on a loopback HOST', () => {
  expect(loadConfig({ SUBSCRIPTION_ENDPOINT_HOSTS: ' hooks.example.org, *.lab.example ,' }).subscriptions).toEqual({
    endpointHosts: ['hooks.example.org', '*.lab.example'],
    loopbackAllowed: true,
  });
  const secret = 'x'.repeat(40);
  expect(loadConfig({ HOST: '0.0.0.0', HMS_SECRET: secret }).subscriptions).toEqual({
    endpointHosts: [],
    loopbackAllowed: false,
  });
});

test.each(['http://hooks.example.org', 'hooks.example.org/path', '*.', 'a b'])('refused: %s', (value) => {
  expect(() => loadConfig({ SUBSCRIPTION_ENDPOINT_HOSTS: value })).toThrow(ConfigError);
  expect(() => loadConfig({ SUBSCRIPTION_ENDPOINT_HOSTS: value })).toThrow(/SUBSCRIPTION_ENDPOINT_HOSTS/);
});
