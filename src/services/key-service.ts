import { randomBytes } from 'node:crypto';
import type { Actor, Scope } from '../domain/access';
import { NotFoundError } from '../domain/errors';
import { randomHex } from '../lib/random-id';
import { sameText, sha256, type TokenSigner } from '../lib/tokens';
import type { Logger } from '../observability/logger';
import type { ApiKeyRepository, StoredKey } from '../persistence/api-key-repository';
import type { Page } from '../persistence/paging';

/** `tock_<id>_<secret>`: the id finds the stored key, the secret is compared by its hash. */
const KEY = /^tock_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})$/;
const ADMIN: Actor = { keyId: 'admin', name: 'TOCK_ADMIN_KEY', scopes: ['admin'], stored: false };
/** How long a key looked up is trusted without asking the store again (revocations arrive at once by pub/sub). */
const CACHE_TTL_MS = 60_000;
/** lastUsedAt is written at most this often per key: never a store write per request. */
const TOUCH_EVERY_MS = 30_000;
export const SESSION_TTL_MS = 12 * 3600_000;

export type KeyInfo = Omit<StoredKey, 'hash'>;

export interface KeyServiceDeps {
  keys: ApiKeyRepository;
  /** TOCK_ADMIN_KEY: always valid, with every scope. */
  adminKey: string;
  sessions: TokenSigner;
  /** Tells every API process that a key was revoked. */
  announceRevoked(id: string): Promise<void>;
  logger: Logger;
  now?: () => number;
}

/**
 * API keys: created with scopes, shown once, stored hashed, revoked at once everywhere. Each API
 * process caches the keys it has looked up; a revocation is published so that every process
 * forgets the key at once.
 */
export class KeyService {
  private readonly cache = new Map<string, { key: StoredKey | null; at: number }>();
  private readonly used = new Map<string, Date>();
  private readonly adminHash: string;
  private readonly touchTimer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly deps: KeyServiceDeps) {
    this.adminHash = sha256(deps.adminKey);
    this.now = deps.now ?? Date.now;
    this.touchTimer = setInterval(() => void this.flushTouches(), TOUCH_EVERY_MS);
    this.touchTimer.unref();
  }

  async create(name: string, scopes: Scope[]): Promise<KeyInfo & { key: string }> {
    const id = randomHex(6);
    const secret = randomBytes(24).toString('base64url');
    const stored: StoredKey = {
      id,
      name,
      scopes,
      hash: sha256(secret),
      createdAt: new Date(this.now()),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.deps.keys.insert(stored);
    return { ...withoutHash(stored), key: `tock_${id}_${secret}` };
  }

  async list(f: { limit: number; cursor?: string }): Promise<Page<KeyInfo>> {
    const page = await this.deps.keys.list(f);
    return { items: page.items.map(withoutHash), nextCursor: page.nextCursor };
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.deps.keys.revoke(id, new Date(this.now())))) throw new NotFoundError(`No key ${id} to revoke`);
    this.forget(id);
    await this.deps.announceRevoked(id).catch((err: unknown) => this.deps.logger.warn({ err, keyId: id }, 'revocation not announced'));
  }

  /** A key revoked elsewhere (or messages missed: `forget()` for all). */
  forget(id?: string): void {
    if (id === undefined) this.cache.clear();
    else this.cache.delete(id);
  }

  /** The actor a bearer key stands for; null when it is not a valid key. */
  async authenticate(token: string): Promise<Actor | null> {
    if (sameText(sha256(token), this.adminHash)) return ADMIN;
    const m = KEY.exec(token);
    if (!m) return null;
    const key = await this.lookup(m[1]!);
    if (!key || key.revokedAt || !sameText(sha256(m[2]!), key.hash)) return null;
    this.used.set(key.id, new Date(this.now()));
    return { keyId: key.id, name: key.name, scopes: key.scopes, stored: true };
  }

  /**
   * Signs in with a key: the actor and a session token for the sign-in cookie, valid SESSION_TTL_MS
   * or until the key is revoked (it carries a fingerprint of the key's hash); null for a bad key.
   */
  async startSession(token: string): Promise<{ actor: Actor; session: string } | null> {
    const actor = await this.authenticate(token);
    if (!actor) return null;
    const fingerprint = (actor.stored ? sha256(KEY.exec(token)![2]!) : this.adminHash).slice(0, 16);
    return { actor, session: this.deps.sessions.sign([actor.keyId, String(this.now() + SESSION_TTL_MS), fingerprint]) };
  }

  async fromSession(value: string): Promise<Actor | null> {
    const fields = this.deps.sessions.verify(value);
    if (!fields || fields.length !== 3) return null;
    const [keyId, expires, fingerprint] = fields as [string, string, string];
    if (!(Number(expires) > this.now())) return null;
    if (keyId === ADMIN.keyId) return this.adminHash.startsWith(fingerprint) ? ADMIN : null;
    const key = await this.lookup(keyId);
    if (!key || key.revokedAt || !key.hash.startsWith(fingerprint)) return null;
    this.used.set(key.id, new Date(this.now()));
    return { keyId: key.id, name: key.name, scopes: key.scopes, stored: true };
  }

  private async lookup(id: string): Promise<StoredKey | null> {
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < CACHE_TTL_MS) return hit.key;
    const key = await this.deps.keys.findById(id);
    this.cache.set(id, { key, at: this.now() });
    return key;
  }

  /** Writes the keys' lastUsedAt, one single-statement update per key used since the last time. */
  async flushTouches(): Promise<void> {
    const used = [...this.used];
    this.used.clear();
    for (const [id, at] of used) {
      await this.deps.keys.touch(id, at).catch((err: unknown) => this.deps.logger.debug({ err, keyId: id }, 'lastUsedAt not written'));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.touchTimer);
    await this.flushTouches();
  }
}

function withoutHash({ hash: _hash, ...rest }: StoredKey): KeyInfo {
  return rest;
}
