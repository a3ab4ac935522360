import { ValidationError } from '../domain/errors';

/** Opaque keyset cursors: base64url of the last item's sort values. */
export function encodeCursor(values: (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number | null)[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')
    ) {
      return values as (string | number | null)[];
    }
  } catch {
    // fall through to the validation error
  }
  throw invalidCursor();
}

export function invalidCursor(): ValidationError {
  return new ValidationError('Invalid cursor', [{ path: 'cursor', message: 'is not a cursor returned by this API' }]);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A page from the `limit + 1` documents a query asked for: the first `limit`, and a cursor after
 * the last of them when there were more.
 */
export function pageOf<D, T>(docs: D[], limit: number, map: (doc: D) => T, cursorOf: (last: T) => (string | number | null)[]): Page<T> {
  const items = docs.slice(0, limit).map(map);
  const last = items[items.length - 1];
  return { items, nextCursor: docs.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
