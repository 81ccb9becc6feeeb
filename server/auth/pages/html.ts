// Server-rendered pages of the authorization server: escaping, one calm layout (one column, large text and
// tap targets, visible focus, AA contrast) and the headers every page carries (CSP, no framing, no referrer,
// no caching).
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { PASSKEY_SCRIPT } from './assets';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A template tag that escapes every interpolated value except Html fragments made by this tag. */
export class Html {
  constructor(readonly text: string) {}
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

const CSS = `
*{box-sizing:border-box}
[hidden]{display:none!important}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;background:#f6f7f9;color:#1b1f24;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:32rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.card{background:#fff;border:1px solid #d0d5dc;border-radius:8px;padding:1.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.125rem;line-height:1.3;margin:1.75rem 0 .5rem}
a{color:#0b5cad}
p{margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=password],input[type=search]{display:block;width:100%;min-height:3rem;padding:.5rem .75rem;font:inherit;color:inherit;background:#fff;border:1px solid #5f6b7a;border-radius:6px}
button{display:block;width:100%;min-height:3rem;margin-top:1.25rem;padding:.5rem 1rem;font:inherit;font-weight:600;border-radius:6px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad}
:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.error{border-left:4px solid #b3261e;background:#fdecea;color:#5c1410;padding:.75rem 1rem;margin:0 0 1rem;border-radius:4px}
.notice{border-left:4px solid #b35c00;background:#fff4e5;color:#3d2300;padding:.75rem 1rem;margin:1rem 0;border-radius:4px}
.success{border-left:4px solid #1e7b34;background:#e9f5ec;color:#0f3d1a;padding:.75rem 1rem;margin:1rem 0;border-radius:4px}
.muted{color:#4a5361;font-size:.9375rem}
.back{margin:1.5rem 0 0}
fieldset{border:0;padding:0;margin:0}
legend{font-weight:600;margin-bottom:.5rem;padding:0}
form+form{margin-top:1.5rem}
.choice{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem 0;border-bottom:1px solid #e3e6ea;font-weight:400;margin:0}
.choice input{width:1.5rem;height:1.5rem;margin:0;flex:none;accent-color:#0b5cad}
.items{list-style:none;padding:0;margin:0 0 1rem}
.items li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 0;border-bottom:1px solid #e3e6ea}
.items form button{width:auto;min-height:2.75rem;margin:0}
.or{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 0;color:#4a5361}
.or::before,.or::after{content:"";flex:1;border-top:1px solid #d0d5dc}
.actions{display:flex;flex-direction:column-reverse;gap:0}
@media (min-width:30rem){.items{list-style:none;padding:0;margin:0 0 1rem}
.items li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 0;border-bottom:1px solid #e3e6ea}
.items form button{width:auto;min-height:2.75rem;margin:0}
.or{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 0;color:#4a5361}
.or::before,.or::after{content:"";flex:1;border-top:1px solid #d0d5dc}
.actions{flex-direction:row;gap:1rem}}
`;

// The style element is built outside the html`` template, whose text formatters may re-indent, so that its
// content is exactly CSS and the CSP can allow it by hash instead of allowing every inline style.
const STYLE = new Html(`<style>${CSS}</style>`);
const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Origins besides our own that a form on the page may end up at (the app's redirect URI after consent). */
  formOrigins?: string[];
  /** The page loads our own scripts (the passkey button), which may call our own endpoints. */
  scripts?: boolean;
}

export function sendPage(res: Response, options: PageOptions): void {
  setPageHeaders(res, options.formOrigins ?? [], options.scripts ?? false);
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} – HMS</title>
        ${STYLE}
      </head>
      <body>
        <main>
          <div class="card">${options.body}</div>
        </main>
        ${options.scripts ? html`<script src="${PASSKEY_SCRIPT}" defer></script>` : ''}
      </body>
    </html> `;
  res
    .status(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(page.text);
}

/** Headers of every page and of every redirect the pages make. */
export function setPageHeaders(res: Response, formOrigins: string[] = [], scripts = false): void {
  const formAction = ["'self'", ...formOrigins.filter((o) => /^https?:\/\/[^\s;,']+$/.test(o))].join(' ');
  const scriptSrc = scripts ? "script-src 'self'; connect-src 'self'; " : '';
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; ${scriptSrc}style-src ${STYLE_HASH}; object-src 'none'; base-uri 'self'; ` +
      `form-action ${formAction}; frame-ancestors 'none'`,
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/** A 303 redirect to one of our pages, with the page headers. */
export function seeOther(res: Response, url: string): void {
  setPageHeaders(res);
  res.redirect(303, url);
}

/** A page that only says what went wrong; used where redirecting to the app would be unsafe. */
export function sendErrorPage(res: Response, status: number, title: string, message: string): void {
  sendPage(res, {
    status,
    title,
    body: html`<h1>${title}</h1>
      <p>${message}</p>`,
  });
}

export function hiddenField(name: string, value: string): Html {
  return html`<input type="hidden" name="${name}" value="${value}" />`;
}
