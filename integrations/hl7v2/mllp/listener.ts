// MLLP listener over node:net / node:tls: each connection's frames are handled one at a time, in arrival order,
// and a reply is written before the next frame starts, so a sender's acknowledgements never overtake each other.
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { FrameTooLargeError, MllpDecoder, encodeFrame } from './framer';

export interface MllpConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  tls: boolean;
  peerCertificateSubject?: string;
}

/** Events never carry message content: payloads are patient data. */
export type MllpEvent =
  | { type: 'connected' | 'closed' | 'frame-too-large' | 'idle-timeout'; connection: MllpConnectionInfo }
  | { type: 'noise'; connection: MllpConnectionInfo; bytes: number }
  | { type: 'error'; connection: MllpConnectionInfo; message: string }
  | { type: 'listener-error'; message: string };

export interface MllpListenerOptions {
  host: string;
  /** 0 = a free port, read back from `port`. */
  port: number;
  /** requestCert also sets rejectUnauthorized: a client certificate is then required and verified against ca. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  maxFrameBytes: number;
  idleTimeoutMs: number;
  /** Resolves with the reply payload (the listener frames it) or undefined for no reply; a throw is a bug. */
  onFrame(payload: Buffer, connection: MllpConnectionInfo): Promise<Buffer | undefined>;
  onEvent?(event: MllpEvent): void;
}

// Above this many waiting frames the socket stops reading, so a fast sender cannot grow memory without bound.
const MAX_QUEUED_FRAMES = 32;

class MllpConnection {
  private readonly decoder: MllpDecoder;
  private readonly queue: Buffer[] = [];
  private readonly idleTimer: NodeJS.Timeout;
  private busy = false;
  // No more frames will be taken: the listener is closing, or the peer half-closed after its last frame.
  private draining = false;
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    readonly info: MllpConnectionInfo,
    private readonly options: MllpListenerOptions,
  ) {
    this.decoder = new MllpDecoder(options.maxFrameBytes);
    this.idleTimer = setTimeout(() => this.onIdle(), options.idleTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A sender may half-close after its last frame and still wait for the reply (hence allowHalfOpen).
    socket.once('end', () => this.finish());
    socket.on('error', (error: Error) => this.emit({ type: 'error', connection: info, message: error.message }));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        clearTimeout(this.idleTimer);
        this.queue.length = 0;
        this.emit({ type: 'closed', connection: info });
        resolve();
      }),
    );
  }

  /**
   * Stop taking frames (later ones are read and dropped: unacknowledged, the sender resends them); the one in
   * progress may finish and reply. end(), not destroy(): unread input at close would reset the connection and
   * could discard the reply before the peer reads it.
   */
  drain(): Promise<void> {
    this.queue.length = 0;
    this.socket.resume();
    this.finish();
    return this.closed;
  }

  private finish(): void {
    this.draining = true;
    if (!this.busy) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.draining || this.socket.destroyed) return;
    this.idleTimer.refresh();
    const noiseBefore = this.decoder.noiseBytes;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameTooLargeError)) throw error;
      this.emit({ type: 'frame-too-large', connection: this.info });
      this.socket.destroy();
      return;
    }
    const noise = this.decoder.noiseBytes - noiseBefore;
    if (noise > 0) this.emit({ type: 'noise', connection: this.info, bytes: noise });
    this.queue.push(...frames);
    if (this.queue.length > MAX_QUEUED_FRAMES) this.socket.pause();
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    while (this.queue.length > 0 && !this.socket.destroyed) {
      const payload = this.queue.shift() as Buffer;
      if (this.queue.length === 0 && !this.draining) this.socket.resume();
      if (!(await this.handle(payload))) break;
    }
    this.busy = false;
    if (this.draining) this.socket.end();
  }

  /** False when the connection must not go on. */
  private async handle(payload: Buffer): Promise<boolean> {
    let reply: Buffer | undefined;
    try {
      reply = await this.options.onFrame(payload, this.info);
    } catch (error) {
      // Only the error's class: its message may quote the message being handled.
      const name = error instanceof Error ? error.name : typeof error;
      this.emit({ type: 'error', connection: this.info, message: `onFrame threw ${name}` });
      this.socket.destroy();
      return false;
    }
    if (reply !== undefined && !(await this.write(encodeFrame(reply)))) return false;
    this.idleTimer.refresh();
    return !this.socket.destroyed;
  }

  /** Resolves once the reply is handed to the kernel; Node calls back with an error if the socket is destroyed. */
  private write(frame: Buffer): Promise<boolean> {
    if (this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(frame, (error) => resolve(!error)));
  }

  private onIdle(): void {
    if (this.busy || this.queue.length > 0) {
      this.idleTimer.refresh();
      return;
    }
    this.emit({ type: 'idle-timeout', connection: this.info });
    this.socket.destroy();
  }

  private emit(event: MllpEvent): void {
    this.options.onEvent?.(event);
  }
}

export class MllpListener {
  private readonly connections = new Set<MllpConnection>();
  // Raw TCP sockets, including TLS handshakes not yet complete, so close() can end those too.
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;
  private closing?: Promise<void>;

  private constructor(
    private readonly server: net.Server,
    private readonly options: MllpListenerOptions,
  ) {
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.accept(socket));
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) =>
      options.onEvent?.({ type: 'error', connection: this.infoOf(socket), message: error.message }),
    );
  }

  static async start(options: MllpListenerOptions): Promise<MllpListener> {
    // rejectUnauthorized only matters with requestCert: then an unverified client certificate is refused.
    const server = options.tls
      ? tls.createServer({ ...options.tls, rejectUnauthorized: true, allowHalfOpen: true })
      : net.createServer({ allowHalfOpen: true });
    const listener = new MllpListener(server, options);
    server.listen(options.port, options.host);
    await once(server, 'listening'); // rejects on a listen error (EADDRINUSE)
    // After listen, errors come from accept (e.g. EMFILE); they must be reported, not crash the process.
    server.on('error', (error) => options.onEvent?.({ type: 'listener-error', message: error.message }));
    return listener;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting; in-progress frames get graceMs to finish and reply, then every socket is destroyed. */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const destroyAll = () => {
      this.connections.forEach((connection) => connection.destroy());
      this.sockets.forEach((socket) => socket.destroy());
    };
    const timer = setTimeout(destroyAll, graceMs);
    await Promise.all([...this.connections].map((connection) => connection.drain()));
    clearTimeout(timer);
    destroyAll();
    await serverClosed;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new MllpConnection(socket, this.infoOf(socket), this.options);
    this.connections.add(connection);
    // Ahead of the connection's own listener, so connectionCount is current when 'closed' is emitted.
    socket.prependOnceListener('close', () => this.connections.delete(connection));
    this.options.onEvent?.({ type: 'connected', connection: connection.info });
  }

  private infoOf(socket: net.Socket): MllpConnectionInfo {
    const { remoteAddress = '', remotePort = 0 } = socket;
    const cn = socket instanceof tls.TLSSocket ? socket.getPeerCertificate()?.subject?.CN : undefined;
    const info = { id: this.nextId++, remoteAddress, remotePort, tls: socket instanceof tls.TLSSocket };
    return cn === undefined ? info : { ...info, peerCertificateSubject: Array.isArray(cn) ? cn.join(',') : cn };
  }
}
