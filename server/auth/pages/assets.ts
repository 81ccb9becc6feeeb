// The pages' only script, assets/passkey.js, served from our own origin so that the pages that need it can
// allow `script-src 'self'` and still forbid inline script. Read from the source tree (the build copies no
// JavaScript), once.
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { projectRoot } from '../../../profiles/loader';

export const PASSKEY_SCRIPT = '/auth/assets/passkey.js';

let script: string | undefined;

/** GET /auth/assets/passkey.js */
export function sendPasskeyScript(_req: Request, res: Response): void {
  script ??= fs.readFileSync(path.join(projectRoot(__dirname), 'server/auth/pages/assets/passkey.js'), 'utf8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
  res.type('text/javascript; charset=utf-8').send(script);
}
