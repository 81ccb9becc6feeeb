// Settings of Subscriptions: the hosts rest-hook notifications may be sent to (SUBSCRIPTION_ENDPOINT_HOSTS,
// comma-separated host names or `*.domain`), and whether loopback is allowed besides (only while the server
// itself listens on loopback).
import { isLoopbackHost } from '../resources/subscriptions/endpoints';
import { ConfigError, type Env } from './env';

export interface SubscriptionConfig {
  endpointHosts: string[];
  loopbackAllowed: boolean;
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export function loadSubscriptionConfig(env: Env, listenHost: string): SubscriptionConfig {
  const endpointHosts = (env.SUBSCRIPTION_ENDPOINT_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  for (const host of endpointHosts) {
    if (!HOST_PATTERN.test(host)) {
      throw new ConfigError(`SUBSCRIPTION_ENDPOINT_HOSTS: "${host}" is not a host name or *.domain`);
    }
  }
  return { endpointHosts, loopbackAllowed: isLoopbackHost(listenHost) };
}
