// The JSON endpoints behind the passkey buttons (fetch calls of assets/passkey.js): the reply, with the same
// protective headers as the pages, and the session check. Their CSRF token travels in the X-CSRF-Token header.
import express, { type Request, type Response } from 'express';
import { bodyOf, liveSession, sameToken, type LiveSession, type PagesContext } from './context';
import { setPageHeaders } from './html';

export const CSRF_HEADER = 'x-csrf-token';

/** Parses application/json bodies only; a passkey answer is a few kilobytes. */
export const jsonBody = express.json({ limit: '64kb', strict: true });

export function sendJson(res: Response, status: number, body: Record<string, unknown>): void {
  setPageHeaders(res);
  res.status(status).type('application/json').send(JSON.stringify(body));
}

/** The browser's live session when its CSRF header matches; else undefined after answering 401 or 403. */
export async function jsonSession(ctx: PagesContext, req: Request, res: Response): Promise<LiveSession | undefined> {
  const live = await liveSession(ctx, req);
  if (!live) {
    sendJson(res, 401, { error: 'Your sign-in expired. Reload the page and sign in again.' });
    return undefined;
  }
  if (!sameToken(live.session.csrf, req.get(CSRF_HEADER) ?? '')) {
    sendJson(res, 403, { error: 'The page had expired. Reload it and try again.' });
    return undefined;
  }
  return live;
}

/** A string member of the JSON body ('' when absent or of another type). */
export function jsonString(req: Request, name: string): string {
  const value = Object.hasOwn(bodyOf(req), name) ? bodyOf(req)[name] : undefined;
  return typeof value === 'string' ? value : '';
}
