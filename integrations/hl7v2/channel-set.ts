// The channels in force: those of HL7_CHANNELS_FILE, overridden or extended by those saved through the admin
// API (kept in the message store, so every app node sees them); the default inbound channel when none is set.
import fs from 'node:fs';
import {
  ChannelError,
  DEFAULT_INBOUND,
  parseChannel,
  type Channel,
  type InboundChannel,
  type OutboundChannel,
} from './channels';
import type { MessageStore } from './message-store/port';

const STORED_KEY = 'channels';

export class ChannelSet {
  private all: Channel[] = [];

  private constructor(
    private readonly fileChannels: Channel[],
    private readonly store: MessageStore,
  ) {}

  static async load(file: string | undefined, store: MessageStore): Promise<ChannelSet> {
    const set = new ChannelSet(file ? readChannelsFile(file) : [], store);
    await set.refresh();
    return set;
  }

  list(): readonly Channel[] {
    return this.all;
  }

  inbound(): InboundChannel[] {
    const inbound = this.all.filter((c): c is InboundChannel => c.direction === 'inbound');
    return inbound.length > 0 ? inbound : [DEFAULT_INBOUND];
  }

  outbound(): OutboundChannel[] {
    return this.all.filter((c): c is OutboundChannel => c.direction === 'outbound');
  }

  get(id: string): Channel | undefined {
    return (
      this.all.find((c) => c.id === id) ??
      (id === DEFAULT_INBOUND.id ? this.inbound().find((c) => c.id === id) : undefined)
    );
  }

  /** Saves a channel (validated) for every node; it overrides the file's channel of the same id. */
  async put(input: unknown): Promise<Channel> {
    const channel = parseChannel(input);
    const stored = (await this.store.getSetting<unknown[]>(STORED_KEY)) ?? [];
    const others = stored.filter((c) => (c as { id?: string }).id !== channel.id);
    await this.store.putSetting(STORED_KEY, [...others, channel]);
    await this.refresh();
    return channel;
  }

  async remove(id: string): Promise<boolean> {
    const stored = (await this.store.getSetting<unknown[]>(STORED_KEY)) ?? [];
    const kept = stored.filter((c) => (c as { id?: string }).id !== id);
    if (kept.length === stored.length) return false;
    await this.store.putSetting(STORED_KEY, kept);
    await this.refresh();
    return true;
  }

  async refresh(): Promise<void> {
    const stored = ((await this.store.getSetting<unknown[]>(STORED_KEY)) ?? []).map((c, i) =>
      parseChannel(c, `stored channel ${i}`),
    );
    const ids = new Set(stored.map((c) => c.id));
    this.all = [...this.fileChannels.filter((c) => !ids.has(c.id)), ...stored];
  }
}

/** The file's channels; every refusal names the file. */
function readChannelsFile(file: string): Channel[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ChannelError(`HL7_CHANNELS_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ChannelError(`HL7_CHANNELS_FILE ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  const list = (parsed as { channels?: unknown })?.channels;
  if (!Array.isArray(list)) throw new ChannelError(`HL7_CHANNELS_FILE ${file} must hold { "channels": [...] }`);
  const channels = list.map((c, i) => {
    try {
      return parseChannel(c, `channels[${i}]`);
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error;
      throw new ChannelError(`HL7_CHANNELS_FILE ${file}: ${error.message}`);
    }
  });
  const ids = channels.map((c) => c.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new ChannelError(`HL7_CHANNELS_FILE ${file}: channel id ${repeated} appears twice`);
  return channels;
}
