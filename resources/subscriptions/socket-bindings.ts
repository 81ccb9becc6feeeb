// The websocket channel's bindings (Backport IG): `$get-ws-binding-token` hands a caller a short-lived token for
// the websocket subscriptions it may read; a socket that sends `bind-with-token` with it receives those
// subscriptions' notifications. Browsers cannot set Authorization on a WebSocket, hence the token. Tokens are
// random, held in this process only, and can bind any number of sockets until they expire.
import { randomBytes } from 'node:crypto';

export const BINDING_TOKEN_MS = 5 * 60_000;

/** A connected socket, as the engine writes to it. */
export interface NotificationSocket {
  send(text: string): void;
  /** Called once when the socket closes. */
  onClose(listener: () => void): void;
}

export class SocketBindings {
  private readonly tokens = new Map<string, { ids: readonly string[]; expires: number }>();
  private readonly sockets = new Map<string, Set<NotificationSocket>>();

  issue(ids: readonly string[], now = Date.now()): { token: string; expires: number } {
    this.forgetExpired(now);
    const token = randomBytes(24).toString('base64url');
    const expires = now + BINDING_TOKEN_MS;
    this.tokens.set(token, { ids, expires });
    return { token, expires };
  }

  /** Binds the socket to the token's subscriptions; undefined when the token is unknown or expired. */
  bind(token: string, socket: NotificationSocket, now = Date.now()): readonly string[] | undefined {
    const grant = this.tokens.get(token);
    if (!grant || grant.expires <= now) return undefined;
    for (const id of grant.ids) {
      let bound = this.sockets.get(id);
      if (!bound) this.sockets.set(id, (bound = new Set()));
      bound.add(socket);
    }
    socket.onClose(() => {
      for (const id of grant.ids) this.sockets.get(id)?.delete(socket);
    });
    return grant.ids;
  }

  /** The sockets bound to a subscription now. */
  socketsOf(id: string): ReadonlySet<NotificationSocket> {
    return this.sockets.get(id) ?? new Set();
  }

  private forgetExpired(now: number): void {
    for (const [token, grant] of this.tokens) if (grant.expires <= now) this.tokens.delete(token);
  }
}
