// Login sessions of the authorization server's pages: a random cookie value whose digest keys the record,
// ended after SESSION_IDLE_MINUTES without activity or 12 hours after login, whichever comes first. A session
// is created anew at login (never reused from before it) and carries the CSRF token of its forms.
import { randomToken, sha256 } from './crypto';
import type { AuthRecords } from './records/port';

const KIND = 'session';
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

export interface Session {
  username: string;
  /** Both factors passed (or the account has no second factor and the role needs none). */
  authenticated: boolean;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

export class SessionStore {
  constructor(
    private readonly records: AuthRecords,
    private readonly idleMs: number,
  ) {}

  /** A new session; returns the cookie value (never stored as such). */
  async create(username: string, authenticated: boolean): Promise<{ id: string; session: Session }> {
    const id = randomToken();
    const now = Date.now();
    const session: Session = { username, authenticated, csrf: randomToken(24), createdAt: now, lastSeen: now };
    await this.save(id, session);
    return { id, session };
  }

  /** The live session, its idle clock restarted; undefined when unknown, idle too long or too old. */
  async touch(id: string | undefined): Promise<Session | undefined> {
    const session = await this.get(id);
    if (!session || !id) return undefined;
    const touched = { ...session, lastSeen: Date.now() };
    await this.save(id, touched);
    return touched;
  }

  /** The live session without restarting its idle clock. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const session = await this.records.get<Session>(KIND, sha256(id));
    if (!session) return undefined;
    const now = Date.now();
    if (now - session.lastSeen > this.idleMs || now - session.createdAt > SESSION_ABSOLUTE_MS) {
      await this.end(id);
      return undefined;
    }
    return session;
  }

  async save(id: string, session: Session): Promise<void> {
    const expiresAt = Math.min(session.lastSeen + this.idleMs, session.createdAt + SESSION_ABSOLUTE_MS);
    await this.records.put(KIND, { key: sha256(id), value: session, expiresAt });
  }

  async end(id: string): Promise<void> {
    await this.records.delete(KIND, sha256(id));
  }

  /** Whether the session a grant was made in still lives (online_access dies with it). */
  async isAliveByDigest(digest: string): Promise<boolean> {
    const session = await this.records.get<Session>(KIND, digest);
    if (!session) return false;
    const now = Date.now();
    return now - session.lastSeen <= this.idleMs && now - session.createdAt <= SESSION_ABSOLUTE_MS;
  }
}

/** The key a grant stores to find its session later, without keeping the cookie value. */
export function sessionDigest(id: string): string {
  return sha256(id);
}
