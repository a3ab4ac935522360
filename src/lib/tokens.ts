import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** SHA-256 of `text`, hex: how keys are stored and compared. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Compares two strings in time that does not depend on where they differ. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Signed, expiring tokens (the dashboard's and Bull Board's session cookie): `<fields>.<hmac>`,
 * fields joined by dots. Nothing is stored: a token is valid while its signature and time hold.
 */
export class TokenSigner {
  constructor(private readonly secret: Buffer) {}

  sign(fields: string[]): string {
    const body = fields.join('.');
    return `${body}.${this.mac(body)}`;
  }

  /** The fields of a token this signer made, or null. */
  verify(token: string): string[] | null {
    const cut = token.lastIndexOf('.');
    if (cut <= 0) return null;
    const body = token.slice(0, cut);
    return sameText(token.slice(cut + 1), this.mac(body)) ? body.split('.') : null;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
