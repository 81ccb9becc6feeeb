// MLLP listener over real sockets on 127.0.0.1: framing on the wire, per-connection ordering, failure isolation,
// idle and graceful close, and TLS with required client certificates (certificates generated per run by openssl).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllpClient, MllpClosedError } from '../../../../integrations/hl7v2/mllp/client';
import { CR, FS, MllpDecoder, VT, encodeFrame } from '../../../../integrations/hl7v2/mllp/framer';
import {
  MllpListener,
  type MllpConnectionInfo,
  type MllpEvent,
  type MllpListenerOptions,
} from '../../../../integrations/hl7v2/mllp/listener';
import { makeCertificates } from '../../../support/tls-certificates';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A raw socket peer, so tests control exactly which bytes go out in which write. */
class Peer {
  readonly replies: string[] = [];
  closed = false;
  private readonly decoder = new MllpDecoder(1 << 20);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.replies.push(...this.decoder.push(chunk).map((f) => f.toString())));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
    // allowHalfOpen lets a test half-close first; the listener's own end is answered as Node does by default.
    socket.on('end', () => socket.end());
  }

  static connect(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(new Peer(socket)));
      socket.once('error', reject);
      peers.push(socket);
    });
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }
}

const peers: net.Socket[] = [];
const listeners: MllpListener[] = [];
let events: MllpEvent[];
let handled: string[];

const echo = async (payload: Buffer) => Buffer.from(`ACK:${payload}`);

async function start(options: Partial<MllpListenerOptions> = {}): Promise<MllpListener> {
  const listener = await MllpListener.start({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 1024,
    idleTimeoutMs: 10000,
    onFrame: echo,
    ...options,
    onEvent: (event) => events.push(event),
  });
  listeners.push(listener);
  return listener;
}

const recording = (onFrame: MllpListenerOptions['onFrame']) => (payload: Buffer, info: MllpConnectionInfo) => {
  handled.push(payload.toString());
  return onFrame(payload, info);
};
const eventsOf = (type: MllpEvent['type']) => events.filter((event) => event.type === type);
const noiseTotal = () => events.reduce((sum, event) => sum + (event.type === 'noise' ? event.bytes : 0), 0);

beforeEach(() => {
  events = [];
  handled = [];
});

afterEach(async () => {
  peers.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(listeners.splice(0).map((listener) => listener.close(0)));
});

describe('MllpListener.start', () => {
  it('rejects when the port is taken', async () => {
    const listener = await start();
    await expect(start({ port: listener.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('MllpListener framing', () => {
  it('answers several frames from one write, in order', async () => {
    const listener = await start();
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.concat([encodeFrame('a'), encodeFrame('b'), encodeFrame('c')]));
    await until(() => peer.replies.length === 3, 'three replies');
    expect(peer.replies).toEqual(['ACK:a', 'ACK:b', 'ACK:c']);
    const [connected] = eventsOf('connected');
    expect(connected).toMatchObject({ connection: { remoteAddress: '127.0.0.1', tls: false } });
    expect(listener.connectionCount).toBe(1);
  });

  it('rebuilds a frame written byte by byte', async () => {
    const listener = await start({ onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    peer.socket.setNoDelay(true);
    for (const byte of encodeFrame('MSH|^~\\&|LAB\rPID|1')) {
      await peer.write(Buffer.from([byte]));
      await sleep(1);
    }
    await until(() => peer.replies.length === 1, 'the reply');
    expect(handled).toEqual(['MSH|^~\\&|LAB\rPID|1']);
  });

  it('waits for the CR of a footer split between writes', async () => {
    const listener = await start({ onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.from([VT, 0x41, FS]));
    await sleep(50);
    expect(handled).toEqual([]);
    await peer.write(Buffer.from([CR]));
    await until(() => peer.replies.length === 1, 'the reply');
    expect(handled).toEqual(['A']);
  });

  it('discards noise between frames and reports its size', async () => {
    const listener = await start({ onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    await peer.write(
      Buffer.concat([Buffer.from('garbage'), encodeFrame('one'), Buffer.from('\r\n'), encodeFrame('two')]),
    );
    await until(() => peer.replies.length === 2, 'two replies');
    expect(handled).toEqual(['one', 'two']);
    expect(noiseTotal()).toBe(9);
  });

  it('restarts a frame at a VT and drops the abandoned part', async () => {
    const listener = await start({ onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.concat([Buffer.from([VT]), Buffer.from('partial'), encodeFrame('real')]));
    await until(() => peer.replies.length === 1, 'the reply');
    expect(handled).toEqual(['real']);
    expect(noiseTotal()).toBe(8);
  });

  it('closes the connection on a frame larger than maxFrameBytes', async () => {
    const listener = await start({ maxFrameBytes: 16, onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.concat([Buffer.from([VT]), Buffer.alloc(32, 'x')]));
    await until(() => peer.closed, 'the connection to close');
    expect(eventsOf('frame-too-large')).toHaveLength(1);
    expect(handled).toEqual([]);
    await until(() => listener.connectionCount === 0, 'the connection to be forgotten');
  });
});

describe('MllpListener connections', () => {
  it('closes an idle connection, but not while a frame is in progress', async () => {
    const listener = await start({ idleTimeoutMs: 100, onFrame: async (p) => (await sleep(300), echo(p)) });
    const busy = await Peer.connect(listener.port);
    await busy.write(encodeFrame('slow'));
    await until(() => busy.replies.length === 1, 'the slow reply');
    const startedAt = Date.now();
    await until(() => busy.closed, 'the idle close');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(80);
    expect(eventsOf('idle-timeout')).toHaveLength(1);
    expect(listener.connectionCount).toBe(0);
  });

  it('handles frames one at a time and replies in arrival order whatever the handler durations', async () => {
    let running = 0;
    let maxRunning = 0;
    const onFrame = async (payload: Buffer) => {
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(payload.toString() === 'slow' ? 200 : 0);
      running--;
      return echo(payload);
    };
    const listener = await start({ onFrame });
    const peer = await Peer.connect(listener.port);
    await peer.write(encodeFrame('slow'));
    await until(() => running === 1, 'the slow handler to start');
    await peer.write(encodeFrame('fast'));
    await until(() => peer.replies.length === 2, 'two replies');
    expect(peer.replies).toEqual(['ACK:slow', 'ACK:fast']);
    expect(maxRunning).toBe(1);
  });

  it('keeps order for a burst larger than the queue limit', async () => {
    const listener = await start({ onFrame: async (p) => (await new Promise(setImmediate), echo(p)) });
    const peer = await Peer.connect(listener.port);
    const pause = jest.spyOn(net.Socket.prototype, 'pause');
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await peer.write(Buffer.concat(sent.map((message) => encodeFrame(message))));
    await until(() => peer.replies.length === 200, 'all replies');
    expect(peer.replies).toEqual(sent.map((message) => `ACK:${message}`));
    expect(pause).toHaveBeenCalled();
    pause.mockRestore();
    // Answered only if the socket paused for the burst was resumed.
    await peer.write(encodeFrame('later'));
    await until(() => peer.replies.length === 201, 'the later reply');
  });

  it('sends no reply when the handler returns undefined', async () => {
    const listener = await start({ onFrame: recording(async () => undefined) });
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.concat([encodeFrame('a'), encodeFrame('b')]));
    await until(() => handled.length === 2, 'both frames');
    await sleep(20);
    expect(peer.replies).toEqual([]);
    expect(peer.closed).toBe(false);
  });

  it('answers a sender that half-closes after its last frame, then closes', async () => {
    const listener = await start({ onFrame: async (p) => (await sleep(50), echo(p)) });
    const peer = await Peer.connect(listener.port);
    peer.socket.end(Buffer.concat([encodeFrame('last'), encodeFrame('really last')]));
    await until(() => peer.closed, 'the close');
    expect(peer.replies).toEqual(['ACK:last', 'ACK:really last']);
  });

  it('destroys only the connection whose handler threw, without the message in the event', async () => {
    const onFrame = async (payload: Buffer) => {
      if (payload.toString().startsWith('boom')) throw new TypeError(`cannot parse ${payload}`);
      return echo(payload);
    };
    const listener = await start({ onFrame });
    const failing = await Peer.connect(listener.port);
    const healthy = await Peer.connect(listener.port);
    await failing.write(Buffer.concat([encodeFrame('boom PID|Doe^Jane'), encodeFrame('after')]));
    await until(() => failing.closed, 'the failing connection to close');
    expect(failing.replies).toEqual([]);
    const [error] = eventsOf('error');
    expect(error).toMatchObject({ message: 'onFrame threw TypeError' });
    expect(JSON.stringify(events)).not.toContain('Doe');
    await healthy.write(encodeFrame('still'));
    await until(() => healthy.replies.length === 1, 'the healthy reply');
    expect(healthy.replies).toEqual(['ACK:still']);
    expect(listener.connectionCount).toBe(1);
  });

  it('survives a client resetting mid-frame', async () => {
    const listener = await start({ onFrame: recording(echo) });
    const peer = await Peer.connect(listener.port);
    await peer.write(Buffer.concat([Buffer.from([VT]), Buffer.from('half a mess')]));
    await sleep(20);
    peer.socket.resetAndDestroy();
    await until(() => eventsOf('closed').length === 1, 'the closed event');
    // The reset reaches the socket as an 'error'; unhandled, it would have crashed the process (and this test).
    expect(eventsOf('error')).toMatchObject([{ message: expect.stringContaining('ECONNRESET') }]);
    expect(handled).toEqual([]);
    const next = await Peer.connect(listener.port);
    await next.write(encodeFrame('next'));
    await until(() => next.replies.length === 1, 'the next reply');
    expect(next.replies).toEqual(['ACK:next']);
  });
});

describe('MllpListener.close', () => {
  it('stops accepting, lets the frame in progress reply, drops queued ones, then closes', async () => {
    let finishedAt = 0;
    const onFrame = async (payload: Buffer) => {
      await sleep(200);
      finishedAt = Date.now();
      return echo(payload);
    };
    const listener = await start({ onFrame: recording(onFrame) });
    const port = listener.port;
    const peer = await Peer.connect(port);
    await peer.write(Buffer.concat([encodeFrame('first'), encodeFrame('queued')]));
    await until(() => handled.length === 1, 'the handler to start');
    const closing = listener.close();
    await expect(Peer.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await closing;
    expect(finishedAt).toBeGreaterThan(0);
    await until(() => peer.closed, 'the peer to see the close');
    expect(peer.replies).toEqual(['ACK:first']);
    expect(handled).toEqual(['first']);
    expect(listener.connectionCount).toBe(0);
  });

  it('destroys connections still busy after the grace period', async () => {
    const listener = await start({ onFrame: () => new Promise<Buffer>(() => undefined) });
    const peer = await Peer.connect(listener.port);
    const idle = await Peer.connect(listener.port);
    await peer.write(encodeFrame('never answered'));
    await until(() => listener.connectionCount === 2, 'both connections');
    await sleep(20);
    const startedAt = Date.now();
    await listener.close(150);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    await until(() => peer.closed && idle.closed, 'both peers to see the close');
    expect(peer.replies).toEqual([]);
  });
});

describe('MllpListener over TLS', () => {
  let dir: string;
  let pem: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCert' | 'otherKey', string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mllp-tls-'));
    makeCertificates(dir, {
      cas: ['test-ca', 'other-ca'],
      leaves: [
        { name: 'localhost', signer: 'test-ca', ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost' },
        { name: 'lab-analyzer', signer: 'test-ca', ext: 'extendedKeyUsage=clientAuth' },
        { name: 'intruder', signer: 'other-ca', ext: 'extendedKeyUsage=clientAuth' },
      ],
    });
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    pem = {
      ca: read('test-ca.crt'),
      serverCert: read('localhost.crt'),
      serverKey: read('localhost.key'),
      clientCert: read('lab-analyzer.crt'),
      clientKey: read('lab-analyzer.key'),
      otherCert: read('intruder.crt'),
      otherKey: read('intruder.key'),
    };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const clients: MllpClient[] = [];
  afterEach(() => clients.splice(0).forEach((client) => client.close()));

  const startTls = () =>
    start({
      tls: { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true },
      onFrame: async (payload, info) => Buffer.from(`ACK:${payload} from ${info.peerCertificateSubject}`),
    });

  async function exchange(port: number, tls: { cert?: string; key?: string }): Promise<string> {
    const client = await MllpClient.connect({
      host: '127.0.0.1',
      port,
      tls: { ca: pem.ca, ...tls },
      connectTimeoutMs: 2000,
      maxFrameBytes: 1024,
    });
    clients.push(client);
    return (await client.send(Buffer.from('MSH|1'), { timeoutMs: 2000 })).toString();
  }

  it('serves a client with a certificate from the trusted CA and names it', async () => {
    const listener = await startTls();
    expect(await exchange(listener.port, { cert: pem.clientCert, key: pem.clientKey })).toBe(
      'ACK:MSH|1 from lab-analyzer',
    );
    expect(eventsOf('connected')[0]).toMatchObject({
      connection: { tls: true, peerCertificateSubject: 'lab-analyzer' },
    });
  });

  it('serves a client without a certificate when none is requested', async () => {
    const listener = await start({ tls: { cert: pem.serverCert, key: pem.serverKey } });
    expect(await exchange(listener.port, {})).toBe('ACK:MSH|1');
    expect(eventsOf('connected')[0]).toMatchObject({ connection: { tls: true } });
    expect(eventsOf('connected')[0]).not.toHaveProperty('connection.peerCertificateSubject');
  });

  it('refuses a client without a certificate', async () => {
    const listener = await startTls();
    // TLS 1.3: the client's handshake completes before the server checks its certificate, so the refusal
    // (alert 116, certificate required) closes the connection under the first send.
    await expect(exchange(listener.port, {})).rejects.toBeInstanceOf(MllpClosedError);
    expect(eventsOf('connected')).toEqual([]);
    await until(() => eventsOf('error').length === 1, 'the handshake error event');
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const listener = await startTls();
    await expect(exchange(listener.port, { cert: pem.otherCert, key: pem.otherKey })).rejects.toBeInstanceOf(
      MllpClosedError,
    );
    expect(eventsOf('connected')).toEqual([]);
  });
});
