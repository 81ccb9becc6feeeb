// One keep-alive HTTP/1.1 connection driven over a raw socket, for the load driver. Node's http client costs
// ~100 µs of CPU per request, taken from the same two cores as the server under test; writing the request
// bytes and reading Content-Length or chunked answers directly costs a third of that, as wrk or autocannon do.
import type http from 'node:http';
import net from 'node:net';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** called with every answer (any status), e.g. to record the id a create returned */
  onResponse?: (response: HttpResponse) => void;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

interface Pending {
  resolve: (response: HttpResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawHttpConnection {
  private socket: net.Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 30_000,
    private readonly authorization?: string,
  ) {}

  /** Sends one request and resolves with the whole answer; one request at a time per connection. */
  request(spec: RequestSpec): Promise<HttpResponse> {
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    const socket = this.connected();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
        this.timeoutMs,
      );
      this.pending = { resolve, reject, timer };
      socket.write(requestBytes(this.host, this.port, spec, this.authorization));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connected(): net.Socket {
    if (this.socket) return this.socket;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    // A socket this connection has already let go of (after `Connection: close`) must not fail the next request.
    socket.on('error', (error) => {
      if (this.socket === socket) this.fail(error);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.fail(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }));
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    return socket;
  }

  private parse(): void {
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0 || !this.pending) return;
    const head = parseHead(this.buffer.subarray(0, end).toString('latin1'));
    const rest = this.buffer.subarray(end + HEADER_END.length);
    const body = head.headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : fixedLength(rest, head.headers);
    if (!body) return;
    this.buffer = body.rest;
    const { resolve, timer } = this.pending;
    clearTimeout(timer);
    this.pending = undefined;
    if (head.headers.connection === 'close') this.close();
    resolve({ status: head.status, headers: head.headers, body: body.body });
  }

  private fail(error: Error): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    this.close();
    pending.reject(error);
  }
}

function requestBytes(host: string, port: number, spec: RequestSpec, authorization?: string): Buffer {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\nHost: ${host}:${port}\r\n`;
  if (authorization) head += `Authorization: ${authorization}\r\n`;
  for (const [name, value] of Object.entries(spec.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

function parseHead(text: string): { status: number; headers: HttpResponse['headers'] } {
  const lines = text.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers };
}

type Body = { body: Buffer; rest: Buffer } | undefined;

function fixedLength(data: Buffer, headers: HttpResponse['headers']): Body {
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < length) return undefined;
  return { body: data.subarray(0, length), rest: data.subarray(length) };
}

/** The body of a complete chunked answer, or undefined while chunks are still coming. */
function dechunk(data: Buffer): Body {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    if (size === 0) {
      // the last chunk: no trailers from our servers, so one more CRLF ends the message
      return { body: Buffer.concat(parts), rest: data.subarray(start + 2) };
    }
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
