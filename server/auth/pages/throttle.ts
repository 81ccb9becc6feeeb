// Per-address throttle of failed sign-in attempts (passwords and TOTP codes), in memory: beyond the limit in
// a window, the pages answer 429 without checking anything. Account lockout (users.ts) works across nodes.
export const LOGIN_FAILURES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly limit = LOGIN_FAILURES_PER_MINUTE) {}

  blocked(address: string): boolean {
    const entry = this.failures.get(address);
    if (!entry) return false;
    if (Date.now() - entry.since > WINDOW_MS) {
      this.failures.delete(address);
      return false;
    }
    return entry.count >= this.limit;
  }

  fail(address: string): void {
    const now = Date.now();
    const entry = this.failures.get(address);
    if (entry && now - entry.since <= WINDOW_MS) {
      entry.count += 1;
      return;
    }
    if (this.failures.size >= MAX_TRACKED) this.prune(now);
    this.failures.set(address, { count: 1, since: now });
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) if (now - entry.since > WINDOW_MS) this.failures.delete(address);
    if (this.failures.size >= MAX_TRACKED) this.failures.clear();
  }
}
