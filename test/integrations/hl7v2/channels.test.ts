// Channel settings: defaults, every refusal with its precise message, routing of inbound messages.
import {
  acceptsType,
  ChannelError,
  DEFAULT_INBOUND,
  parseChannel,
  routeInbound,
  type InboundChannel,
} from '../../../integrations/hl7v2/channels';

const outbound = { id: 'lab', direction: 'outbound', host: 'lis.local', port: 2575, events: ['lab-order'] };
const refusal = (input: unknown) => {
  try {
    parseChannel(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ChannelError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('parseChannel defaults', () => {
  test('inbound (direction may be left out)', () => {
    expect(parseChannel({ id: 'adt-1' })).toEqual({
      id: 'adt-1',
      direction: 'inbound',
      enabled: true,
      messageTypes: ['ADT^*', 'ORU^R01', 'ORM^O01', 'OML^O21', 'SIU^*', 'DFT^P03'],
      processingIds: ['P', 'T', 'D'],
      charset: 'utf-8',
      timezone: '+0000',
      ackAfter: 'store',
      tables: {},
      retentionDays: 90,
      dedupeDays: 30,
    });
    expect(parseChannel({ id: 'x', direction: 'inbound' }).direction).toBe('inbound');
  });

  test('outbound', () => {
    expect(parseChannel(outbound)).toEqual({
      ...outbound,
      enabled: true,
      orderCategories: ['108252007', 'LAB', 'laboratory'],
      orderStructure: 'OML_O21',
      version: '2.5.1',
      processingId: 'P',
      sendingApplication: 'HMS',
      sendingFacility: 'HOSPITAL',
      receivingApplication: '',
      receivingFacility: '',
      charset: 'UNICODE UTF-8',
      timezone: '+0000',
      ackTimeoutMs: 30_000,
      maxAttempts: 5,
      retryBaseMs: 1_000,
      retryMaxMs: 300_000,
      strictOrder: false,
      retentionDays: 90,
    });
  });

  test('given values override the defaults and are kept', () => {
    const channel = parseChannel({
      id: 'lab_2',
      sendingApplication: 'LAB',
      messageTypes: ['ORU^R01', 'ADT'],
      charset: 'iso-8859-1',
      timezone: '-0530',
      ackAfter: 'processing',
      tables: { units: { 'mEq/L': 'meq/L' } },
      retentionDays: 30,
      dedupeDays: 30,
      enabled: false,
      applicationAckChannel: 'lab',
    }) as InboundChannel;
    expect(channel).toMatchObject({ sendingApplication: 'LAB', charset: 'iso-8859-1', enabled: false });
    expect(channel.tables.units).toEqual({ 'mEq/L': 'meq/L' });
  });

  test('the default channel is an inbound channel with the defaults', () => {
    expect(DEFAULT_INBOUND).toEqual({ ...parseChannel({ id: 'default' }) });
  });
});

describe('parseChannel refusals', () => {
  test.each<[string, unknown, string]>([
    ['not an object', [], 'channel must be an object'],
    ['null', null, 'channel must be an object'],
    ['no id', {}, "channel.id must be 1-64 letters, digits, '-' or '_'"],
    ['bad id', { id: 'a b' }, "channel.id must be 1-64 letters, digits, '-' or '_'"],
    ['long id', { id: 'x'.repeat(65) }, "channel.id must be 1-64 letters, digits, '-' or '_'"],
    ['direction', { id: 'a', direction: 'both' }, 'channel.direction must be inbound or outbound'],
    ['messageTypes', { id: 'a', messageTypes: ['ORU_R01'] }, 'channel a: messageTypes must be a non-empty list'],
    ['messageTypes empty', { id: 'a', messageTypes: [] }, 'channel a: messageTypes must be a non-empty list'],
    ['messageTypes lower', { id: 'a', messageTypes: ['oru^r01'] }, 'channel a: messageTypes must be'],
    ['processingIds', { id: 'a', processingIds: ['X'] }, 'channel a: processingIds must be a non-empty list'],
    ['charset', { id: 'a', charset: 'latin1' }, 'channel a: charset must be one of utf-8, iso-8859-1'],
    ['ackAfter', { id: 'a', ackAfter: 'never' }, 'channel a: ackAfter must be one of store, processing'],
    ['timezone', { id: 'a', timezone: 'UTC' }, 'channel a: timezone must look like +0100'],
    ['timezone hours', { id: 'a', timezone: '+2500' }, 'channel a: timezone must look like +0100'],
    ['timezone minutes', { id: 'a', timezone: '+0199' }, 'channel a: timezone must look like +0100'],
    ['retention', { id: 'a', retentionDays: 7 }, 'channel a: retentionDays must be at least dedupeDays'],
    ['dedupeDays', { id: 'a', dedupeDays: 0 }, 'channel a: dedupeDays must be a positive number'],
    ['retentionDays', { id: 'a', retentionDays: '90' }, 'channel a: retentionDays must be a positive number'],
    ['tables', { id: 'a', tables: null }, 'channel a: tables must be an object'],
    ['tables array', { id: 'a', tables: [] }, 'channel a: tables must be an object'],
    ['tables.units', { id: 'a', tables: { units: 'x' } }, 'channel a: tables.units must be an object'],
    ['enabled', { id: 'a', enabled: 'false' }, 'channel a: enabled must be true or false'],
    ['sender', { id: 'a', sendingApplication: null }, 'channel a: sendingApplication must be a string'],
    ['facility', { id: 'a', sendingFacility: 7 }, 'channel a: sendingFacility must be a string'],
    ['ack channel', { id: 'a', applicationAckChannel: 1 }, 'channel a: applicationAckChannel must be a string'],
    ['no host', { ...outbound, host: undefined }, 'channel lab: host is required'],
    ['empty host', { ...outbound, host: '' }, 'channel lab: host is required'],
    ['port 0', { ...outbound, port: 0 }, 'channel lab: port must be 1-65535'],
    ['port high', { ...outbound, port: 65536 }, 'channel lab: port must be 1-65535'],
    ['port text', { ...outbound, port: '2575' }, 'channel lab: port must be 1-65535'],
    ['no events', { ...outbound, events: undefined }, 'channel lab: events must be a non-empty list'],
    ['events', { ...outbound, events: ['orders'] }, 'channel lab: events must be a non-empty list'],
    ['orderStructure', { ...outbound, orderStructure: 'OMG_O19' }, 'channel lab: orderStructure must be one of'],
    ['version', { ...outbound, version: '2.6' }, 'channel lab: version must be one of 2.3, 2.4, 2.5, 2.5.1'],
    ['version number', { ...outbound, version: 2.5 }, 'channel lab: version must be one of'],
    ['processingId', { ...outbound, processingId: 'X' }, 'channel lab: processingId must be one of P, T, D'],
    ['out charset', { ...outbound, charset: 'utf-8' }, 'channel lab: charset must be one of UNICODE UTF-8, 8859/1'],
    ['out timezone', { ...outbound, timezone: '0100' }, 'channel lab: timezone must look like +0100'],
    ['ackTimeoutMs', { ...outbound, ackTimeoutMs: 0 }, 'channel lab: ackTimeoutMs must be a positive number'],
    ['maxAttempts', { ...outbound, maxAttempts: -1 }, 'channel lab: maxAttempts must be a positive number'],
    ['maxAttempts int', { ...outbound, maxAttempts: 1.5 }, 'channel lab: maxAttempts must be a positive integer'],
    ['retryBaseMs', { ...outbound, retryBaseMs: null }, 'channel lab: retryBaseMs must be a positive number'],
    ['retryMaxMs', { ...outbound, retryMaxMs: 'x' }, 'channel lab: retryMaxMs must be a positive number'],
    ['retry order', { ...outbound, retryBaseMs: 5000, retryMaxMs: 10 }, 'channel lab: retryMaxMs must be at least'],
    ['out retention', { ...outbound, retentionDays: 0 }, 'channel lab: retentionDays must be a positive number'],
    ['strictOrder', { ...outbound, strictOrder: 'yes' }, 'channel lab: strictOrder must be true or false'],
    ['categories', { ...outbound, orderCategories: 'LAB' }, 'channel lab: orderCategories must be a list'],
    ['out names', { ...outbound, sendingApplication: 1 }, 'channel lab: sendingApplication must be a string'],
    ['tls', { ...outbound, tls: 'yes' }, 'channel lab: tls must be an object'],
    ['tls files', { ...outbound, tls: { ca: 1 } }, 'channel lab: tls.ca must be a string'],
  ])('%s', (_, input, message) => {
    expect(refusal(input)).toContain(message);
  });

  test('where names the place in the message', () => {
    expect(() => parseChannel({ id: 'a', charset: 'x' }, 'channels[3]')).toThrow(
      'channels[3] a: charset must be one of',
    );
  });

  test('an empty orderCategories list (every ServiceRequest) and TLS settings are accepted', () => {
    expect(parseChannel({ ...outbound, orderCategories: [], tls: { servername: 'lis' } })).toMatchObject({
      orderCategories: [],
      tls: { servername: 'lis' },
    });
  });
});

describe('routeInbound', () => {
  const channel = (id: string, extra: Partial<InboundChannel> = {}) => parseChannel({ id, ...extra }) as InboundChannel;
  const header = (app: string, facility: string, type: string) => ({
    sendingApplication: app,
    sendingFacility: facility,
    type,
    code: type.split('^')[0],
  });

  test('sender match: application and facility', () => {
    const channels = [
      channel('lab-a', { sendingApplication: 'LAB', sendingFacility: 'A' }),
      channel('lab', { sendingApplication: 'LAB' }),
      channel('any'),
    ];
    expect(routeInbound(channels, header('LAB', 'A', 'ORU^R01'))?.id).toBe('lab-a');
    expect(routeInbound(channels, header('LAB', 'B', 'ORU^R01'))?.id).toBe('lab');
    expect(routeInbound(channels, header('ADT', 'A', 'ORU^R01'))?.id).toBe('any');
  });

  test('a channel taking the type is preferred among those of the sender', () => {
    const channels = [
      channel('results', { sendingApplication: 'LAB', messageTypes: ['ORU^R01'] }),
      channel('adt', { sendingApplication: 'LAB', messageTypes: ['ADT^*'] }),
    ];
    expect(routeInbound(channels, header('LAB', '', 'ADT^A08'))?.id).toBe('adt');
    expect(routeInbound(channels, header('LAB', '', 'ORU^R01'))?.id).toBe('results');
  });

  test('no channel takes the type: the first of the sender (so it refuses with 200)', () => {
    const channels = [
      channel('results', { sendingApplication: 'LAB', messageTypes: ['ORU^R01'] }),
      channel('adt', { sendingApplication: 'LAB', messageTypes: ['ADT^*'] }),
    ];
    expect(routeInbound(channels, header('LAB', '', 'MFN^M02'))?.id).toBe('results');
    expect(routeInbound(channels, header('OTHER', '', 'ORU^R01'))).toBeUndefined();
  });

  test('disabled channels are skipped', () => {
    const channels = [channel('off', { sendingApplication: 'LAB', enabled: false }), channel('any')];
    expect(routeInbound(channels, header('LAB', '', 'ORU^R01'))?.id).toBe('any');
    expect(routeInbound([channels[0]], header('LAB', '', 'ORU^R01'))).toBeUndefined();
  });

  test('an empty sender name only matches a channel for an empty sender or any sender', () => {
    const channels = [channel('blank', { sendingApplication: '' }), channel('lab', { sendingApplication: 'LAB' })];
    expect(routeInbound(channels, header('', '', 'ORU^R01'))?.id).toBe('blank');
    expect(routeInbound(channels, header('LAB', '', 'ORU^R01'))?.id).toBe('lab');
  });
});

describe('acceptsType', () => {
  const channel = parseChannel({ id: 'a', messageTypes: ['ADT^*', 'ORU^R01', 'SIU'] }) as InboundChannel;
  test.each([
    ['ADT^A01', true],
    ['ADT^A40', true],
    ['ORU^R01', true],
    ['ORU^R30', false],
    ['SIU^S12', true],
    ['ORM^O01', false],
    ['ADTX^A01', false],
  ])('%s -> %s', (type, expected) => {
    expect(acceptsType(channel, { type, code: type.split('^')[0] })).toBe(expected);
  });
});
