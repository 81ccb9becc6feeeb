// One rest-hook delivery against endpoints that fail: closed port, slow answer, error status. The reason never
// carries the endpoint's body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendRestHook } from '../../../resources/subscriptions/rest-hook';
import { closedPort } from '../../support/fake-mongod';

const channel = (endpoint: string, timeoutSeconds?: number) => ({
  type: 'rest-hook' as const,
  endpoint,
  headers: [],
  content: 'empty' as const,
  ...(timeoutSeconds ? { timeoutSeconds } : {}),
});

test('a closed port, a timeout and an error status are failed deliveries with a reason', async () => {
  const unreachable = await sendRestHook(channel(`http://127.0.0.1:${await closedPort()}/x`), {});
  expect(unreachable).toEqual({ ok: false, error: 'the endpoint could not be reached: ECONNREFUSED' });
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end(), 1500);
    else res.writeHead(500).end('patient Jane Doe');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    expect(await sendRestHook(channel(`${base}/slow`, 1), {})).toEqual({
      ok: false,
      error: 'the endpoint could not be reached: timed out',
    });
    expect(await sendRestHook(channel(`${base}/error`), {})).toEqual({ ok: false, error: 'the endpoint answered 500' });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
