// `hms hl7 status` and `hms hl7 errors`: the HL7 bridge's channels, counters and error queue, read from the
// message store of the configured data (works while the server runs). Prints JSON lines, no message content.
import { ChannelSet } from '../integrations/hl7v2/channel-set';
import { openMessageStore } from '../integrations/hl7v2/message-store/index';
import type { MessageStore } from '../integrations/hl7v2/message-store/port';
import { channelStatus } from '../integrations/hl7v2/status';
import { openStore } from '../resources/store';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';

const HL7_USAGE = 'Usage: hms hl7 status | hms hl7 errors [--channel ID]';

export async function hl7Command(args: string[], io: CliIo): Promise<number> {
  const [sub, flag, value] = args;
  const channelFilter = flag === '--channel' ? value : undefined;
  const valid =
    (sub === 'status' && args.length === 1) ||
    (sub === 'errors' && (args.length === 1 || (flag === '--channel' && value)));
  if (!valid) {
    io.err(`${HL7_USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const resources = config.mongodbUrl ? await openStore({ ...config, searchWorkers: 0 }) : undefined;
  const store = await openMessageStore(resources, config.dataDir);
  try {
    if (sub === 'status') await printStatus(store, config.hl7.channelsFile, io);
    else await printErrors(store, channelFilter, io);
    return 0;
  } finally {
    await store.close();
    await resources?.close();
  }
}

async function printStatus(store: MessageStore, channelsFile: string | undefined, io: CliIo): Promise<void> {
  const channels = await ChannelSet.load(channelsFile, store);
  for (const channel of [...channels.inbound(), ...channels.outbound()]) {
    io.out(`${JSON.stringify(await channelStatus(store, channel, 'configured'))}\n`);
  }
}

async function printErrors(store: MessageStore, channel: string | undefined, io: CliIo): Promise<void> {
  const errors = await store.search({ status: ['error', 'conflict'], count: 200, ...(channel ? { channel } : {}) });
  for (const m of errors) {
    const line = {
      id: m.id,
      channel: m.channel,
      direction: m.direction,
      type: m.type,
      controlId: m.controlId,
      receivedAt: new Date(m.receivedAt).toISOString(),
      attempts: m.attempts,
      error: m.error,
    };
    io.out(`${JSON.stringify(line)}\n`);
  }
}
