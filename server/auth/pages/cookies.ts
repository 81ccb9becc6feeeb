// The cookies of the authorization server's pages: the login session and the pre-login CSRF token (a
// double-submit cookie). Both HttpOnly, SameSite=Lax, limited to /auth, and Secure on an https server.
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'hms_session';
export const CSRF_COOKIE = 'hms_csrf';

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== name) continue;
    const value = part.slice(at + 1).trim();
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
  }
  return undefined;
}

export function setCookie(res: Response, name: string, value: string, secure: boolean): void {
  res.append('Set-Cookie', `${name}=${value}; Path=/auth; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  res.append('Set-Cookie', `${name}=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
}
