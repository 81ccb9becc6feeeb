// The websocket channel's bindings (Backport IG): `$get-ws-binding-token` hands a caller a short-lived token for
// the websocket subscriptions it may read; a socket that sends `bind-with-token` with it receives those
// subscriptions' notifications. Browsers cannot set Authorization on a WebSocket, hence the token. A token
// carries its subscriptions and expiry, signed with a key derived from HMS_SECRET, so that any app node of the
// store accepts a token another one issued (the socket and the HTTP call may reach different nodes); it can
// bind any number of sockets until it expires.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const BINDING_TOKEN_MS = 5 * 60_000;
/** Subscriptions one token may bind: a token travels in a websocket message of a few kilobytes. */
export const MAX_BOUND_SUBSCRIPTIONS = 100;

/** A connected socket, as the engine writes to it. */
export interface NotificationSocket {
  send(text: string): void;
  /** Called once when the socket closes. */
  onClose(listener: () => void): void;
}

interface Grant {
  /** subscription ids */
  i: string[];
  /** expiry, epoch ms */
  e: number;
}

export class SocketBindings {
  private readonly key: Buffer;
  private readonly sockets = new Map<string, Set<NotificationSocket>>();

  /** `secret`: HMS_SECRET, the same on every node; without it tokens are good on this node only. */
  constructor(secret?: string) {
    this.key = secret
      ? Buffer.from(hkdfSync('sha256', secret, 'hms-ws-binding', 'subscription binding tokens', 32))
      : randomBytes(32);
  }

  issue(ids: readonly string[], now = Date.now()): { token: string; expires: number } {
    const expires = now + BINDING_TOKEN_MS;
    // The random part makes every token unique, even for the same subscriptions in the same millisecond.
    const payload = Buffer.from(JSON.stringify({ i: ids, e: expires, n: randomBytes(9).toString('base64url') }));
    const body = payload.toString('base64url');
    return { token: `${body}.${this.mac(body)}`, expires };
  }

  /** Binds the socket to the token's subscriptions; undefined when the token is not ours or has expired. */
  bind(token: string, socket: NotificationSocket, now = Date.now()): readonly string[] | undefined {
    const grant = this.verify(token);
    if (!grant || grant.e <= now) return undefined;
    for (const id of grant.i) {
      let bound = this.sockets.get(id);
      if (!bound) this.sockets.set(id, (bound = new Set()));
      bound.add(socket);
    }
    socket.onClose(() => {
      for (const id of grant.i) {
        const bound = this.sockets.get(id);
        bound?.delete(socket);
        if (bound?.size === 0) this.sockets.delete(id);
      }
    });
    return grant.i;
  }

  /** The sockets bound to a subscription now. */
  socketsOf(id: string): ReadonlySet<NotificationSocket> {
    return this.sockets.get(id) ?? new Set();
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private verify(token: string): Grant | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const grant = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Grant>;
      const valid = Array.isArray(grant.i) && grant.i.every((id) => typeof id === 'string');
      return valid && typeof grant.e === 'number' ? { i: grant.i as string[], e: grant.e } : undefined;
    } catch {
      return undefined;
    }
  }
}
