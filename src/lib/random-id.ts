import { randomBytes } from 'node:crypto';

/**
 * Random hex drawn from a 4 KiB pool: one `randomBytes` call per id cost a few percent of the API's
 * CPU under a stream of triggers (each call is a trip into OpenSSL).
 */
let pool = Buffer.alloc(0);
let offset = 0;

export function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += bytes;
  return pool.toString('hex', offset - bytes, offset);
}
