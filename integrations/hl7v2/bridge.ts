// The HL7 v2 bridge in the server process: the MLLP listener and its inbound processing, the outbound
// queues fed by committed FHIR changes, alerts, and what the admin API and `hms hl7` show and do.
import { createHash } from 'node:crypto';
import type { RepositoryServices } from '../../resources/repository';
import { Alerts, type AlertSettings } from './alerts';
import { ChannelSet } from './channel-set';
import { receiveFrame } from './inbound/frame';
import { InboundProcessor } from './inbound/processor';
import type { ReceiverDeps } from './inbound/receiver';
import { MllpListener, type MllpListenerOptions } from './mllp/listener';
import { openMessageStore } from './message-store/index';
import type { MessageStore, StoredMessage } from './message-store/port';
import { encodeText } from './message/charset';
import { Dispatcher } from './outbound/dispatcher';
import { OutboundFeed } from './outbound/feed';
import { OutboundRouter } from './outbound/router';
import { ErrorQueue } from './error-queue';
import { channelStatus, type ChannelStatus } from './status';

export interface BridgeSettings {
  dataDir: string;
  baseUrl: string;
  mllp: Pick<MllpListenerOptions, 'host' | 'port' | 'tls' | 'maxFrameBytes' | 'idleTimeoutMs'>;
  channelsFile?: string;
  alerts: AlertSettings;
  /** How often queue age, silence and retention are checked. */
  checkIntervalMs?: number;
}

export interface BridgeLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const DAY_MS = 86_400_000;

/**
 * Queues an enhanced-mode application ACK on the outbound channel named for it, in that channel's charset,
 * once per original message. A channel that is missing or does not carry them is noted in the original's history.
 */
async function queueApplicationAck(
  store: MessageStore,
  channels: ChannelSet,
  channelId: string,
  ack: string,
  original: StoredMessage,
): Promise<boolean> {
  const channel = channels.outbound().find((c) => c.id === channelId && c.events.includes('application-ack'));
  if (!channel) {
    await store.note(original.id, {
      at: Date.now(),
      status: original.status,
      actor: 'mllp',
      detail: `Application ACK not sent: no outbound channel ${channelId} with the application-ack event`,
    });
    return false;
  }
  const raw = encodeText(ack, channel.charset);
  const msh = (ack.split('\r')[0] ?? '').split('|');
  const queued = await store.enqueue({
    channel: channel.id,
    direction: 'out',
    receivedAt: Date.now(),
    status: 'queued',
    raw,
    sendingApplication: msh[2] ?? '',
    sendingFacility: msh[3] ?? '',
    controlId: msh[9] ?? '',
    type: 'ACK',
    contentHash: createHash('sha256').update(raw).digest('hex'),
    sourceKey: `application-ack/${original.id}`,
    derivedFrom: original.id,
    ...(original.patientId ? { patientId: original.patientId } : {}),
  });
  return queued !== undefined;
}

export class Hl7Bridge {
  readonly errors: ErrorQueue;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private timer?: NodeJS.Timeout;
  private stopListening?: () => void;

  private constructor(
    readonly store: MessageStore,
    readonly channels: ChannelSet,
    readonly processor: InboundProcessor,
    private readonly listener: MllpListener,
    private readonly feed: OutboundFeed,
    readonly alerts: Alerts,
    private readonly services: RepositoryServices,
    private readonly logger: BridgeLogger,
  ) {
    this.errors = new ErrorQueue(store, channels, processor, (id) => this.dispatchers.get(id)?.poke());
  }

  static async start(services: RepositoryServices, settings: BridgeSettings, logger: BridgeLogger): Promise<Hl7Bridge> {
    const store = await openMessageStore(services.store, settings.dataDir);
    try {
      const channels = await ChannelSet.load(settings.channelsFile, store);
      const alerts = new Alerts(settings.alerts, (problem) => logger.warn('hl7 alert', { problem }));
      const processor = new InboundProcessor(store, services, settings.baseUrl, {
        processed: (channel, message) => {
          if (message.status === 'error') alerts.errored(channel);
        },
        failed: (channel, error) => logger.error('hl7 processing failed', { channel, error: (error as Error).name }),
      });
      const bridge: { current?: Hl7Bridge } = {};
      const deps: ReceiverDeps = {
        store,
        processor,
        channels: () => channels.inbound(),
        observed: ({ channel, status }) => {
          if (status === 'conflict') alerts.errored(channel, 'conflict');
          if (status === 'store-failed') alerts.errored(channel);
        },
        sendApplicationAck: async (channel, ack, original) => {
          if (await queueApplicationAck(store, channels, channel, ack, original)) bridge.current?.poke(channel);
        },
      };
      const router = new OutboundRouter(
        store,
        services,
        () => channels.outbound(),
        (channel) => bridge.current?.poke(channel),
        (channel, error) => logger.error('hl7 outbound build failed', { channel, error: (error as Error).message }),
      );
      const feed = new OutboundFeed(store, services, router, (error) =>
        logger.error('hl7 outbound feed failed', { error: (error as Error).name }),
      );
      const listener = await MllpListener.start({
        ...settings.mllp,
        onFrame: (payload) => receiveFrame(payload, deps),
        onEvent: (event) => {
          if (event.type === 'frame-too-large' || event.type === 'error' || event.type === 'listener-error') {
            logger.warn('mllp', { event: event.type, ...('message' in event ? { detail: event.message } : {}) });
          }
        },
      });
      const started = new Hl7Bridge(store, channels, processor, listener, feed, alerts, services, logger);
      bridge.current = started;
      await started.begin(settings);
      logger.info('hl7 listening', { host: settings.mllp.host, port: listener.port, tls: Boolean(settings.mllp.tls) });
      return started;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  get port(): number {
    return this.listener.port;
  }

  /** Per channel: state, counters, queue depth and age, last message. */
  async status(): Promise<ChannelStatus[]> {
    const inbound = this.channels
      .inbound()
      .map((c) => channelStatus(this.store, c, this.listener.connectionCount > 0 ? 'connected' : 'listening'));
    const outbound = this.channels
      .outbound()
      .map((c) => channelStatus(this.store, c, this.dispatchers.get(c.id)?.state ?? 'stopped'));
    return Promise.all([...inbound, ...outbound]);
  }

  /** Something was queued on an outbound channel: its dispatcher looks at the queue now. */
  poke(channel: string): void {
    this.dispatchers.get(channel)?.poke();
  }

  /** Starts, reconfigures or stops dispatchers after a channel change. */
  syncDispatchers(): void {
    const outbound = this.channels.outbound();
    for (const channel of outbound) {
      const running = this.dispatchers.get(channel.id);
      if (running) running.reconfigure(channel);
      else {
        const dispatcher = new Dispatcher(channel, this.store, { failed: (id) => this.alerts.errored(id) });
        this.dispatchers.set(channel.id, dispatcher);
        dispatcher.start();
      }
    }
    for (const [id, dispatcher] of this.dispatchers) {
      if (!outbound.some((c) => c.id === id)) {
        void dispatcher.stop();
        this.dispatchers.delete(id);
      }
    }
  }

  /** Waits until every received message has been applied (tests, graceful stop). */
  idle(): Promise<void> {
    return this.processor.idle();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopListening?.();
    await this.listener.close();
    await this.processor.idle();
    await this.feed.stop();
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop()));
    await this.store.close();
  }

  private async begin(settings: BridgeSettings): Promise<void> {
    this.stopListening = this.services.commits.listen((versions) => this.feed.push(versions));
    const resumed = await this.processor.resume(this.channels.inbound());
    if (resumed > 0) this.logger.info('hl7 resuming stored messages', { count: resumed });
    await this.feed.catchUp();
    this.syncDispatchers();
    this.timer = setInterval(() => void this.housekeeping(), settings.checkIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Alerts on queue age and silence; purges messages past every channel's retention. */
  private async housekeeping(): Promise<void> {
    try {
      const channels = [...this.channels.inbound(), ...this.channels.outbound()];
      for (const channel of channels) {
        this.alerts.check(channel.id, channel.direction, await this.store.counters(channel.id));
      }
      const retention = Math.max(...channels.map((c) => c.retentionDays));
      await this.store.purge(Date.now() - retention * DAY_MS);
    } catch (error) {
      this.logger.error('hl7 housekeeping failed', { error: (error as Error).name });
    }
  }
}
