// MLLP client against real sockets on 127.0.0.1: reply matching with accept(), timeouts, closed connections,
// connect failures; the peer is a raw net server so each test decides exactly what goes back on the wire.
import net from 'node:net';
import { MllpClient, MllpClosedError, MllpTimeoutError } from '../../../../integrations/hl7v2/mllp/client';
import { FrameTooLargeError, MllpDecoder, encodeFrame } from '../../../../integrations/hl7v2/mllp/framer';
import { MllpListener } from '../../../../integrations/hl7v2/mllp/listener';

type Behaviour = (payload: string, socket: net.Socket) => void;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const clients: MllpClient[] = [];

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A raw peer that runs behaviour for every frame it receives. */
function rawServer(behaviour: Behaviour): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const decoder = new MllpDecoder(1 << 20);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => decoder.push(chunk).forEach((frame) => behaviour(frame.toString(), socket)));
  });
  return listen(server);
}

async function connect(port: number, maxFrameBytes = 1024): Promise<MllpClient> {
  const client = await MllpClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, maxFrameBytes });
  clients.push(client);
  return client;
}

const send = (client: MllpClient, text: string, timeoutMs = 2000, accept?: (reply: Buffer) => boolean) =>
  client.send(Buffer.from(text), { timeoutMs, accept }).then((reply) => reply.toString());

afterEach(async () => {
  clients.splice(0).forEach((client) => client.close());
  sockets.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('MllpClient', () => {
  it('exchanges frames with an MllpListener', async () => {
    const listener = await MllpListener.start({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024,
      idleTimeoutMs: 5000,
      onFrame: async (payload) => Buffer.from(`ACK|${payload}`),
    });
    try {
      const client = await connect(listener.port);
      expect(await send(client, 'one')).toBe('ACK|one');
      expect(await send(client, 'two')).toBe('ACK|two');
      expect(client.closed).toBe(false);
    } finally {
      await listener.close(0);
    }
  });

  it('skips frames that accept() rejects and resolves with the matching one', async () => {
    const port = await rawServer((payload, socket) => {
      socket.write(encodeFrame('ACK|unrelated'));
      setTimeout(() => socket.write(encodeFrame(`ACK|${payload}`)), 20);
    });
    const client = await connect(port);
    expect(await send(client, 'ctrl-7', 2000, (reply) => reply.toString().endsWith('ctrl-7'))).toBe('ACK|ctrl-7');
    expect(client.ignoredFrames).toBe(1);
  });

  it('rejects with MllpTimeoutError; the late reply then arrives during the next send and is skipped', async () => {
    const port = await rawServer((payload, socket) => {
      setTimeout(() => socket.write(encodeFrame(`ACK|${payload}`)), payload === 'late' ? 150 : 250);
    });
    const client = await connect(port);
    await expect(send(client, 'late', 50)).rejects.toBeInstanceOf(MllpTimeoutError);
    expect(client.closed).toBe(false);
    const accept = (reply: Buffer) => reply.toString() === 'ACK|next';
    expect(await send(client, 'next', 2000, accept)).toBe('ACK|next');
    expect(client.ignoredFrames).toBe(1);
  });

  it('rejects with MllpClosedError when the peer closes, then on every later send', async () => {
    const port = await rawServer((_payload, socket) => socket.destroy());
    const client = await connect(port);
    const closeEvent = new Promise<void>((resolve) => client.once('close', resolve));
    await expect(send(client, 'bye')).rejects.toBeInstanceOf(MllpClosedError);
    await closeEvent;
    expect(client.closed).toBe(true);
    await expect(send(client, 'again')).rejects.toBeInstanceOf(MllpClosedError);
  });

  it('rejects a pending send when closed locally', async () => {
    const client = await connect(await rawServer(() => undefined));
    const pending = send(client, 'unanswered');
    client.close();
    await expect(pending).rejects.toBeInstanceOf(MllpClosedError);
  });

  it('closes on a reply larger than maxFrameBytes, with the cause', async () => {
    const port = await rawServer((_payload, socket) => socket.write(encodeFrame('x'.repeat(100))));
    const client = await connect(port, 16);
    const failure = send(client, 'big please');
    await expect(failure).rejects.toBeInstanceOf(MllpClosedError);
    await expect(failure).rejects.toHaveProperty('cause', expect.any(FrameTooLargeError));
  });

  it('refuses a second send while one is outstanding', async () => {
    const client = await connect(await rawServer(() => undefined));
    const first = send(client, 'first', 100);
    expect(() => client.send(Buffer.from('second'), { timeoutMs: 100 })).toThrow(/outstanding/);
    await expect(first).rejects.toBeInstanceOf(MllpTimeoutError);
  });

  it('rejects connect with the socket error when nothing listens', async () => {
    const port = await listen(net.createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects connect with MllpTimeoutError when the TLS handshake never completes', async () => {
    const port = await listen(net.createServer((socket) => sockets.push(socket)));
    const connecting = MllpClient.connect({
      host: '127.0.0.1',
      port,
      tls: {},
      connectTimeoutMs: 100,
      maxFrameBytes: 1024,
    });
    await expect(connecting).rejects.toBeInstanceOf(MllpTimeoutError);
  });
});
