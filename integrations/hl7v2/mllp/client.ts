// MLLP client over node:net / node:tls: one request outstanding at a time; a reply is matched by the caller's
// accept() (e.g. on MSA-2), so a late reply to an earlier, timed-out send is skipped rather than taken as this one's.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { MllpDecoder, encodeFrame } from './framer';

export class MllpTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MllpTimeoutError';
  }
}

export class MllpClosedError extends Error {
  constructor(cause?: Error) {
    super(cause ? `MLLP connection closed: ${cause.message}` : 'MLLP connection closed', { cause });
    this.name = 'MllpClosedError';
  }
}

export interface MllpClientOptions {
  host: string;
  port: number;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
  connectTimeoutMs: number;
  maxFrameBytes: number;
}

export interface MllpSendOptions {
  timeoutMs: number;
  /** Default: the first frame received. */
  accept?: (reply: Buffer) => boolean;
}

interface PendingSend {
  accept: (reply: Buffer) => boolean;
  resolve: (reply: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class MllpClient extends EventEmitter<{ close: [] }> {
  /** Frames received that no send accepted. */
  ignoredFrames = 0;
  private readonly decoder: MllpDecoder;
  private pending?: PendingSend;
  private lastError?: Error;
  private isClosed = false;

  private constructor(
    private readonly socket: net.Socket,
    maxFrameBytes: number,
  ) {
    super();
    this.decoder = new MllpDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => (this.lastError = error));
    socket.once('close', () => this.onClose());
  }

  /** Rejects with the socket error, or MllpTimeoutError when not connected (TLS: handshake done) in time. */
  static connect(options: MllpClientOptions): Promise<MllpClient> {
    const { host, port, connectTimeoutMs } = options;
    const socket = options.tls ? tls.connect({ host, port, ...options.tls }) : net.connect({ host, port });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MllpTimeoutError(`MLLP connect timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(new MllpClient(socket, options.maxFrameBytes));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Throws at once if a send is still outstanding: callers must serialise, replies carry no request id. */
  send(payload: Buffer, options: MllpSendOptions): Promise<Buffer> {
    if (this.pending) throw new Error('MllpClient.send called while a send is outstanding');
    if (this.isClosed) return Promise.reject(new MllpClosedError(this.lastError));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new MllpTimeoutError(`No MLLP reply within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      this.pending = { accept: options.accept ?? (() => true), resolve, reject, timer };
      this.socket.write(encodeFrame(payload));
    });
  }

  /** Writes a frame that gets no reply (an application ACK); resolves once the socket has taken it. */
  post(payload: Buffer): Promise<void> {
    if (this.pending) throw new Error('MllpClient.post called while a send is outstanding');
    if (this.isClosed) return Promise.reject(new MllpClosedError(this.lastError));
    return new Promise((resolve, reject) => {
      this.socket.write(encodeFrame(payload), (error) => (error ? reject(new MllpClosedError(error)) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    for (const frame of frames) this.offer(frame);
  }

  private offer(frame: Buffer): void {
    let accepted: boolean;
    try {
      accepted = this.pending?.accept(frame) ?? false;
    } catch (error) {
      // A throwing filter is the caller's bug: surface it on the send rather than in a socket event.
      this.settle()?.reject(error as Error);
      return;
    }
    if (accepted) this.settle()?.resolve(frame);
    else this.ignoredFrames++;
  }

  private settle(): PendingSend | undefined {
    const pending = this.pending;
    if (pending) clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }

  private onClose(): void {
    this.isClosed = true;
    this.settle()?.reject(new MllpClosedError(this.lastError));
    this.emit('close');
  }
}
