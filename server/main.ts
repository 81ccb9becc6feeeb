// The server process: config -> store -> app -> HTTP listener -> graceful stop on SIGTERM/SIGINT
// (stop accepting, let in-flight requests finish, close the store).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './log';
import { createRequestListener } from './app';
import { AuthService, type AuthSettings } from './auth/service';
import { closeServices, openServices } from './services';
import type { RepositoryServices } from '../resources/repository';
import { StoreConfigError } from '../resources/store/config-error';
import { Hl7Bridge, type BridgeSettings } from '../integrations/hl7v2/bridge';
import { ChannelError } from '../integrations/hl7v2/channels';
import { createHttpServer } from './http/tls';
import { acceptSubscriptionSockets, type SubscriptionSockets } from './http/subscription-sockets';
import { applyStorageConfig } from './storage-config';

export interface RunningServer {
  server: http.Server;
  services: RepositoryServices;
  auth: AuthService;
  /** The HL7 v2 bridge, unless HL7_MLLP_PORT=off. */
  hl7?: Hl7Bridge;
  baseUrl: string;
  stop(): Promise<void>;
}

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Exit codes of a failed start, so a supervisor can tell a bad setting or store from a crash. */
const EXIT_CONFIG_ERROR = 2;
const EXIT_STORE_ERROR = 3;

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  applyStorageConfig(config, logger);
  const services = await openServices(config);
  let auth: AuthService;
  try {
    auth = await AuthService.open(services.store, authSettings(config));
  } catch (error) {
    await closeServices(services);
    throw error;
  }
  let hl7: Hl7Bridge | undefined;
  try {
    hl7 = config.hl7.enabled ? await Hl7Bridge.start(services, hl7Settings(config), logger) : undefined;
  } catch (error) {
    await auth.close();
    await closeServices(services);
    throw error;
  }
  if ((await auth.users.list()).length === 0) {
    process.stderr.write(`No users yet. Create the first administrator with:\n  ${FIRST_ADMIN_COMMAND}\n`);
  }
  const lifecycle = { stopping: false };
  const listener = createRequestListener({
    services,
    baseUrl: config.baseUrl,
    trustProxy: config.proxy.trustProxy,
    maxBodyBytes: config.maxBodyBytes,
    binaryMaxBytes: config.binary.maxBytes,
    logger,
    auth,
    authDisabled: config.authDisabled,
    hl7,
    http: config.http,
    lifecycle,
  });
  const server = createHttpServer(listener, config.http.tls);
  const sockets = acceptSubscriptionSockets(server, services.subscriptions);
  // Node closes an idle keep-alive connection after 5 s, racing clients and proxies that reuse it at that
  // moment (the request fails with ECONNRESET). Stay open longer than the usual 60 s of load balancers.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await hl7?.stop();
    await auth.close();
    await closeServices(services);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const baseUrl = config.port === 0 ? config.baseUrl.replace(/:0\//, `:${port}/`) : config.baseUrl;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    lifecycle.stopping = true;
    return (stopping ??= shutdown(server, sockets, services, auth, hl7, config.shutdownTimeoutMs));
  };
  logger.info('listening', { baseUrl, host: config.host, port, dataDir: config.dataDir });
  if (hl7) process.stderr.write(`HL7 v2 (MLLP) listening on ${config.hl7.host}:${hl7.port}\n`);
  return { server, services, auth, hl7, baseUrl, stop };
}

export function authSettings(config: Config): AuthSettings {
  return {
    baseUrl: config.baseUrl,
    dataDir: config.dataDir,
    secret: config.hmsSecret,
    accessTokenMinutes: config.accessTokenMinutes,
    sessionIdleMinutes: config.sessionIdleMinutes,
    corsOrigins: config.corsOrigins,
  };
}

export function hl7Settings(config: Config): BridgeSettings {
  const { hl7 } = config;
  return {
    dataDir: config.dataDir,
    baseUrl: config.baseUrl,
    mllp: {
      host: hl7.host,
      port: hl7.port,
      tls: hl7.tls,
      maxFrameBytes: hl7.maxFrameBytes,
      idleTimeoutMs: hl7.idleTimeoutMs,
    },
    ...(hl7.channelsFile ? { channelsFile: hl7.channelsFile } : {}),
    alerts: {
      webhook: hl7.alertWebhook,
      queueAgeMinutes: hl7.alertQueueMinutes,
      silentMinutes: hl7.alertSilentMinutes,
      quietMinutes: 60,
    },
  };
}

export const FIRST_ADMIN_COMMAND = 'npx hms user add --username admin --role admin --password-stdin';

async function shutdown(
  server: http.Server,
  sockets: SubscriptionSockets,
  services: RepositoryServices,
  auth: AuthService,
  hl7: Hl7Bridge | undefined,
  timeoutMs: number,
): Promise<void> {
  // The MLLP listener stops first: a message is ACKed only once stored, so senders resend what is cut off.
  await hl7?.stop();
  await sockets.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
  await auth.close();
  await closeServices(services);
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let running: RunningServer;
  try {
    running = await startServer(config, logger);
  } catch (error) {
    logger.error('startup failed', { error: (error as Error).message });
    if (error instanceof ChannelError) {
      process.stderr.write(`HL7 channel error: ${error.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    if (error instanceof StoreConfigError) {
      process.stderr.write(`Store error: ${error.message}\n`);
      process.exit(EXIT_STORE_ERROR);
    }
    process.exit(1);
  }
  // For people at a terminal; stdout stays pure JSON lines for log collectors.
  process.stderr.write(`HMS FHIR server listening at ${running.baseUrl}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('stopping', { signal });
      void running.stop().then(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
  }
}

if (require.main === module) void main();
