// The benchmark load driver against a real HTTP server: both clients read fixed-length and chunked answers,
// reuse the connection, and count every status; the raw client reconnects after `Connection: close`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad, type LoadDriver } from './bench/load';
import { RawHttpConnection } from './bench/raw-connection';

let server: http.Server;
let port: number;
const connectionsSeen = new Set<unknown>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    connectionsSeen.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('first,');
        setImmediate(() => res.end('second'));
      } else if (req.url === '/close') {
        res.writeHead(200, { Connection: 'close', 'Content-Length': '2' });
        res.end('ok');
      } else if (req.url === '/missing') {
        res.writeHead(404, { 'Content-Length': '0' });
        res.end();
      } else {
        res.writeHead(201, { Location: '/x/1', 'Content-Length': String(Buffer.byteLength(`echo:${body}`)) });
        res.end(`echo:${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the raw connection reads fixed-length and chunked answers on one socket, and reconnects after close', async () => {
  const connection = new RawHttpConnection('127.0.0.1', port);
  connectionsSeen.clear();
  const created = await connection.request({ method: 'POST', path: '/x', body: 'héllo' });
  expect(created).toMatchObject({ status: 201, headers: { location: '/x/1' } });
  expect(created.body.toString()).toBe('echo:héllo');
  expect((await connection.request({ method: 'GET', path: '/chunked' })).body.toString()).toBe('first,second');
  expect(connectionsSeen.size).toBe(1);
  expect((await connection.request({ method: 'GET', path: '/close' })).body.toString()).toBe('ok');
  expect((await connection.request({ method: 'GET', path: '/missing' })).status).toBe(404);
  expect(connectionsSeen.size).toBe(2);
  await expect(
    Promise.all([connection.request({ method: 'GET', path: '/x' }), connection.request({ method: 'GET', path: '/x' })]),
  ).rejects.toThrow(/already in flight/);
  connection.close();
});

test.each<LoadDriver>(['node', 'raw'])(
  'runLoad with the %s client sends every request and counts statuses',
  async (driver) => {
    const responses: number[] = [];
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      connections: 4,
      requests: 40,
      driver,
      next: (i) => ({
        method: i % 4 === 0 ? 'GET' : 'POST',
        path: i % 4 === 0 ? '/missing' : '/x',
        body: i % 4 === 0 ? undefined : `n${i}`,
        onResponse: (r) => responses.push(r.status),
      }),
    });
    expect(result.requests).toBe(40);
    expect(result.statusCounts).toEqual({ 201: 30, 404: 10 });
    expect(result.errors).toBe(10);
    expect(responses).toHaveLength(40);
  },
);

test('the raw connection fails a request when the server is gone', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const connection = new RawHttpConnection('127.0.0.1', deadPort);
  await expect(connection.request({ method: 'GET', path: '/' })).rejects.toThrow();
});
