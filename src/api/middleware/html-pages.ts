import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';

/**
 * The HTML pages Tock serves (Swagger UI, Bull Board, the dashboard) load nothing from another
 * host: a stylesheet link to another host (the Google Fonts link both libraries ship) is removed,
 * and a Content-Security-Policy allows this origin only, inline scripts by their hash. Framing is
 * refused (clickjacking).
 */
const EXTERNAL_STYLESHEET = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>\s*/gi;
const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>([\s\S]*?)<\/script>/gi;

export function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.length > 0 ? ` ${hashes.join(' ')}` : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function htmlPages() {
  return async (ctx: Context, next: Next) => {
    await next();
    if (!ctx.response.is('html') || typeof ctx.body !== 'string') return;
    const html = ctx.body.replace(EXTERNAL_STYLESHEET, '');
    ctx.body = html;
    ctx.set('Content-Security-Policy', contentSecurityPolicy(html));
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
  };
}
