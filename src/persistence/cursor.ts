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
