import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/env';
import { Sealer, sealingKey } from '../lib/sealing';
import type { Logger } from '../observability/logger';

export interface Secrets {
  /** TOCK_ADMIN_KEY, or the development key kept in DATA_DIR. */
  adminKey: string;
  /** Where the admin key came from: the variable, or the file (development). */
  adminKeyFile: string | null;
  sealer: Sealer;
}

/** A secret kept in a file readable by its owner only; made on first use. */
function devSecret(dir: string, name: string, make: () => string): { value: string; file: string; made: boolean } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = path.join(dir, name);
  try {
    writeFileSync(file, `${make()}\n`, { flag: 'wx', mode: 0o600 });
    return { value: readFileSync(file, 'utf8').trim(), file, made: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process (the worker beside this API) made it first, or an earlier start did.
    return { value: readFileSync(file, 'utf8').trim(), file, made: false };
  }
}

/**
 * The admin key and the encryption key. In production both must be configured (the process refuses
 * to start and names the variable); in development, missing ones are generated under DATA_DIR
 * (readable by its owner only) and reused on later starts, so that `npm start` needs no setup.
 */
export function resolveSecrets(cfg: Config, needsAdminKey: boolean): Secrets {
  const production = cfg.NODE_ENV === 'production';
  if (production && !cfg.TOCK_ENCRYPTION_KEY) {
    throw new Error('TOCK_ENCRYPTION_KEY is not set: in production it must be (32 bytes, base64: openssl rand -base64 32)');
  }
  if (production && needsAdminKey && !cfg.TOCK_ADMIN_KEY) {
    throw new Error('TOCK_ADMIN_KEY is not set: in production the API needs an admin key (at least 16 characters)');
  }
  const encryptionKey =
    cfg.TOCK_ENCRYPTION_KEY ?? devSecret(cfg.DATA_DIR, 'encryption-key', () => randomBytes(32).toString('base64')).value;
  const admin = cfg.TOCK_ADMIN_KEY
    ? { value: cfg.TOCK_ADMIN_KEY, file: null }
    : devSecret(cfg.DATA_DIR, 'admin-key', () => `tock_admin_${randomBytes(24).toString('base64url')}`);
  return {
    adminKey: admin.value,
    adminKeyFile: admin.file,
    sealer: new Sealer(sealingKey(encryptionKey), cfg.TOCK_ENCRYPTION_KEYS_PREVIOUS.map(sealingKey)),
  };
}

/** In development, where the generated admin key is and how to use it. */
export function logDevAdminKey(secrets: Secrets, apiBase: string, logger: Logger): void {
  if (!secrets.adminKeyFile) return;
  logger.info(
    { adminKeyFile: secrets.adminKeyFile },
    `admin key (development, kept in ${secrets.adminKeyFile}): ${secrets.adminKey} — try: ` +
      `curl -H "Authorization: Bearer $(cat ${secrets.adminKeyFile})" ${apiBase}/api/v1/jobs`,
  );
}
