// The websocket endpoint of Subscriptions (/ws/subscriptions-r4): a client connects, sends
// `{"type": "bind-with-token", "payload": {"token": "..."}}` (Medplum's framing of the Backport IG's binding) with a
// token from `$get-ws-binding-token`, then receives a handshake and the notification Bundles of the bound
// subscriptions as JSON text. Other paths are refused; a bad message or token closes the socket with a reason.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SubscriptionStates } from '../../resources/subscriptions/state';
import { SUBSCRIPTION_SOCKET_PATH } from '../operations/ws-binding-token';

/** Client messages are a token (up to 100 subscription ids, signed) and a few words; anything larger is not ours. */
const MAX_MESSAGE_BYTES = 16 * 1024;
/** Close codes in the application range: the client sent something we cannot use. */
const CLOSE_BAD_MESSAGE = 4400;
const CLOSE_BAD_TOKEN = 4401;

export interface SubscriptionSockets {
  /** Closes every socket (the server is stopping). */
  close(): Promise<void>;
}

export function acceptSubscriptionSockets(
  server: http.Server,
  engine: SubscriptionStates | undefined,
): SubscriptionSockets {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== SUBSCRIPTION_SOCKET_PATH || !engine) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serve(ws, engine));
  });
  return {
    close: () =>
      new Promise((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close(() => resolve());
      }),
  };
}

function serve(ws: WebSocket, engine: SubscriptionStates): void {
  ws.on('message', (data, isBinary) => {
    const token = isBinary ? undefined : bindingToken(data.toString());
    if (token === undefined) {
      ws.close(CLOSE_BAD_MESSAGE, 'expected {"type":"bind-with-token","payload":{"token":...}}');
      return;
    }
    const bound = engine.bindSocket(token, {
      send: (text) => ws.readyState === ws.OPEN && ws.send(text),
      onClose: (listener) => ws.once('close', listener),
    });
    if (!bound) ws.close(CLOSE_BAD_TOKEN, 'unknown or expired token: get a new one with $get-ws-binding-token');
  });
  ws.on('error', () => ws.terminate());
}

function bindingToken(text: string): string | undefined {
  try {
    const message = JSON.parse(text) as { type?: unknown; payload?: { token?: unknown } };
    const token = message.payload?.token;
    return message.type === 'bind-with-token' && typeof token === 'string' ? token : undefined;
  } catch {
    return undefined;
  }
}
