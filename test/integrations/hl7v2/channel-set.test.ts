// The channels in force: HL7_CHANNELS_FILE, channels saved through the admin API (in the message store,
// overriding the file's of the same id, surviving a reload), and the default inbound channel.
import fs from 'node:fs';
import path from 'node:path';
import { ChannelSet } from '../../../integrations/hl7v2/channel-set';
import { ChannelError, DEFAULT_INBOUND } from '../../../integrations/hl7v2/channels';
import { SqliteMessageStore } from '../../../integrations/hl7v2/message-store/sqlite-messages';
import { tempDir } from '../../support/app';

let dir: string;
let store: SqliteMessageStore;
const openStore = () => new SqliteMessageStore(path.join(dir, 'hl7.sqlite'));

beforeEach(() => {
  dir = tempDir('hms-hl7-channels-');
  store = openStore();
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function channelsFile(content: unknown): string {
  const file = path.join(dir, 'channels.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const lab = { id: 'lab', sendingApplication: 'LAB', messageTypes: ['ORU^R01'] };
const adt = { id: 'adt', sendingApplication: 'PAS', messageTypes: ['ADT^*'] };
const lis = { id: 'lis', direction: 'outbound', host: 'lis.local', port: 2575, events: ['lab-order'] };

describe('load', () => {
  test('channels of the file, inbound and outbound, with their defaults', async () => {
    const set = await ChannelSet.load(channelsFile({ channels: [lab, adt, lis] }), store);
    expect(set.list().map((c) => c.id)).toEqual(['lab', 'adt', 'lis']);
    expect(set.inbound().map((c) => c.id)).toEqual(['lab', 'adt']);
    expect(set.outbound().map((c) => c.id)).toEqual(['lis']);
    expect(set.get('lab')).toMatchObject({ direction: 'inbound', retentionDays: 90, charset: 'utf-8' });
    expect(set.get('lis')).toMatchObject({ direction: 'outbound', version: '2.5.1' });
    expect(set.get('default')).toBeUndefined();
    expect(set.get('nope')).toBeUndefined();
  });

  test('invalid JSON: a ChannelError naming the file', async () => {
    const file = channelsFile('{ "channels": [ ');
    const error = await ChannelSet.load(file, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as Error).message).toContain(`HL7_CHANNELS_FILE ${file} cannot be read as JSON`);
  });

  test('a file that cannot be read: a ChannelError naming the file', async () => {
    const file = path.join(dir, 'missing.json');
    await expect(ChannelSet.load(file, store)).rejects.toThrow(`HL7_CHANNELS_FILE ${file} cannot be read`);
  });

  test.each([{}, [], null, { channels: {} }, { channel: [lab] }])('no channels list: %j', async (content) => {
    const file = channelsFile(content);
    const error = await ChannelSet.load(file, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as Error).message).toBe(`HL7_CHANNELS_FILE ${file} must hold { "channels": [...] }`);
  });

  test('duplicate ids are refused, naming the id and the file', async () => {
    const file = channelsFile({ channels: [lab, adt, { ...lis, id: 'lab' }] });
    const error = await ChannelSet.load(file, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as Error).message).toBe(`HL7_CHANNELS_FILE ${file}: channel id lab appears twice`);
  });

  test('an invalid channel is refused, naming the file and its place', async () => {
    const file = channelsFile({ channels: [lab, { ...adt, charset: 'cp1252' }] });
    const error = await ChannelSet.load(file, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as Error).message).toBe(
      `HL7_CHANNELS_FILE ${file}: channels[1] adt: charset must be one of utf-8, iso-8859-1`,
    );
  });

  test('an empty channels list is allowed', async () => {
    const set = await ChannelSet.load(channelsFile({ channels: [] }), store);
    expect(set.list()).toEqual([]);
  });
});

describe('put and remove', () => {
  test('put() overrides the file channel of the same id, and the override survives a reload', async () => {
    const file = channelsFile({ channels: [lab, adt] });
    const set = await ChannelSet.load(file, store);
    const saved = await set.put({ ...lab, messageTypes: ['ORU^R01', 'ORM^O01'], charset: 'iso-8859-1' });
    expect(saved).toMatchObject({ id: 'lab', charset: 'iso-8859-1' });
    expect(set.list().filter((c) => c.id === 'lab')).toHaveLength(1);
    expect(set.get('lab')).toMatchObject({ charset: 'iso-8859-1', messageTypes: ['ORU^R01', 'ORM^O01'] });

    await store.close();
    store = openStore();
    const reloaded = await ChannelSet.load(file, store);
    expect(
      reloaded
        .list()
        .map((c) => c.id)
        .sort(),
    ).toEqual(['adt', 'lab']);
    expect(reloaded.get('lab')).toMatchObject({ charset: 'iso-8859-1' });
    expect(reloaded.get('adt')).toMatchObject({ charset: 'utf-8' });
  });

  test('put() adds a channel; a second put of the same id replaces it', async () => {
    const set = await ChannelSet.load(undefined, store);
    await set.put(lis);
    await set.put({ ...lis, port: 2576 });
    expect(set.outbound()).toHaveLength(1);
    expect(set.get('lis')).toMatchObject({ port: 2576 });
    expect(await store.getSetting<unknown[]>('channels')).toHaveLength(1);
  });

  test('put() of an invalid channel is refused and stores nothing', async () => {
    const set = await ChannelSet.load(undefined, store);
    await expect(set.put({ ...lis, port: 0 })).rejects.toBeInstanceOf(ChannelError);
    expect(set.list()).toEqual([]);
    expect(await store.getSetting('channels')).toBeUndefined();
  });

  test('remove() drops a saved channel, bringing back the file one; file-only and unknown ids: false', async () => {
    const set = await ChannelSet.load(channelsFile({ channels: [lab] }), store);
    await set.put({ ...lab, enabled: false });
    await set.put(adt);
    expect(set.get('lab')).toMatchObject({ enabled: false });
    expect(await set.remove('lab')).toBe(true);
    expect(set.get('lab')).toMatchObject({ enabled: true });
    expect(await set.remove('lab')).toBe(false);
    expect(await set.remove('unknown')).toBe(false);
    expect(set.list().map((c) => c.id)).toEqual(['lab', 'adt']);
    expect(await set.remove('adt')).toBe(true);
    expect(set.get('adt')).toBeUndefined();
  });

  test('refresh() sees what another node saved', async () => {
    const one = await ChannelSet.load(undefined, store);
    const two = await ChannelSet.load(undefined, store);
    await one.put(adt);
    expect(two.get('adt')).toBeUndefined();
    await two.refresh();
    expect(two.get('adt')).toMatchObject({ sendingApplication: 'PAS' });
  });
});

describe('the default inbound channel', () => {
  test('used when no inbound channel is configured', async () => {
    const set = await ChannelSet.load(undefined, store);
    expect(set.inbound()).toEqual([DEFAULT_INBOUND]);
    expect(set.get('default')).toBe(DEFAULT_INBOUND);
    expect(set.list()).toEqual([]);
  });

  test('also when only outbound channels are configured', async () => {
    const set = await ChannelSet.load(channelsFile({ channels: [lis] }), store);
    expect(set.inbound()).toEqual([DEFAULT_INBOUND]);
  });

  test('not once an inbound channel exists', async () => {
    const set = await ChannelSet.load(undefined, store);
    await set.put(lab);
    expect(set.inbound().map((c) => c.id)).toEqual(['lab']);
    expect(set.get('default')).toBeUndefined();
    await set.remove('lab');
    expect(set.inbound()).toEqual([DEFAULT_INBOUND]);
  });
});
