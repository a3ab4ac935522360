import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM with a random 96-bit IV. A sealed value is one string,
 * `sealed:v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url parts), where the key id names the key
 * that sealed it, so keys can be rotated by adding a new one and keeping the old ones for reading.
 */
const PREFIX = 'sealed:v1:';

export interface SealingKey {
  /** The first 8 hex digits of the key's SHA-256: stored with each value, never the key. */
  id: string;
  key: Buffer;
}

export function sealingKey(base64: string): SealingKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('an encryption key is 32 bytes, base64-encoded');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

export class Sealer {
  private readonly byId: Map<string, Buffer>;

  /** `current` seals; `current` and `previous` unseal. */
  constructor(
    private readonly current: SealingKey,
    previous: SealingKey[] = [],
  ) {
    this.byId = new Map([current, ...previous].map((k) => [k.id, k.key]));
  }

  /** A key for another purpose (signing session cookies), derived from the current one. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.current.key, Buffer.alloc(0), purpose, 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.current.id}:${[iv, ct, cipher.getAuthTag()].map((b) => b.toString('base64url')).join(':')}`;
  }

  /** The plain text of a sealed value; throws when it is not one, or its key is not known here. */
  unseal(sealed: string): string {
    if (!isSealed(sealed)) throw new Error('not a sealed value');
    const [keyId, iv, ct, tag] = sealed.slice(PREFIX.length).split(':');
    const key = this.byId.get(keyId ?? '');
    if (!key || !iv || ct === undefined || !tag) throw new Error(`no key ${keyId} to unseal this value (TOCK_ENCRYPTION_KEY)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}
