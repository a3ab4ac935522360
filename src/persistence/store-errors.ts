import { UnavailableError, ValidationError } from '../domain/errors';

/**
 * The one place that reads MongoDB driver and server errors: repositories hand what they catch to
 * `storeError`, so that services and the API see Tock's errors (UnavailableError: 503;
 * ValidationError: 400) and never the driver's.
 */
/** Driver and mongoose errors that mean "the MongoDB-compatible server did not answer". */
const MONGO_UNAVAILABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
  'MongoClientClosedError',
  'MongoOperationTimeoutError',
]);
/** Server codes for a server that is shutting down or not (yet) able to serve. */
const MONGO_UNAVAILABLE_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);
/**
 * Node socket errors. The MongoDB driver sometimes hands one on as is (a write to a socket the
 * server has just closed fails with EPIPE), bare or with its code copied onto a Mongo error that
 * wraps it.
 */
const SOCKET_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTCONN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** Mongoose's own wording when the connection is not usable (bufferCommands is off). */
const MONGOOSE_UNAVAILABLE = /before initial connection|buffering timed out|connection .*closed|client must be connected/i;

type ChainedError = { name?: unknown; code?: unknown; message?: unknown; syscall?: unknown; cause?: unknown; errorResponse?: unknown };

/**
 * `err` and the errors behind it, at most five: each error's `cause`, or the `errorResponse` under
 * which MongoBulkWriteError keeps the network error that ended the batch.
 */
function* errorChain(err: unknown): Generator<ChainedError> {
  for (let e = err, i = 0; e !== null && typeof e === 'object' && i < 5; i++) {
    const c = e as ChainedError;
    yield c;
    e = c.cause ?? c.errorResponse;
  }
}

/** True when `err` (or an error behind it) says MongoDB is unreachable, or is a bare socket error. */
export function isStoreUnavailable(err: unknown): boolean {
  for (const e of errorChain(err)) {
    const name = String(e.name ?? '');
    if (MONGO_UNAVAILABLE_NAMES.has(name)) return true;
    if (name === 'MongoServerError' && typeof e.code === 'number' && MONGO_UNAVAILABLE_CODES.has(e.code)) return true;
    if (name.startsWith('Mongo') && typeof e.code === 'string' && SOCKET_ERROR_CODES.has(e.code)) return true;
    if (name === 'MongooseError' && MONGOOSE_UNAVAILABLE.test(String(e.message ?? ''))) return true;
    // A bare Node socket error, as the driver sometimes hands one on.
    if (typeof e.syscall === 'string' && typeof e.code === 'string' && SOCKET_ERROR_CODES.has(e.code)) return true;
  }
  return false;
}

/** True when `err` is a duplicate-key error (code 11000). */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

interface WriteError {
  index: number;
  code?: number;
  errmsg?: string;
}

/** The per-document errors of an unordered insertMany (the driver gives one as an object, several as an array). */
export function writeErrorsOf(err: unknown): WriteError[] {
  const w = (err as { writeErrors?: unknown }).writeErrors;
  return (Array.isArray(w) ? w : w ? [w] : []) as WriteError[];
}

/** True when every document an insert refused was a duplicate (a record written twice): harmless. */
export function isDuplicateOnly(err: unknown): boolean {
  const list = writeErrorsOf(err);
  if (list.length === 0) return isDuplicateKey(err);
  return list.every((w) => w.code === 11000);
}

/** Server codes for a document the store refuses (BadValue, e.g. FerretDB's nested arrays). */
const REJECTED_CODES = new Set([2, 17419, 17260]);

/** A document the server (or the BSON encoder) refuses to store, as a 400 instead of a 500. */
export function storeRejection(err: unknown): ValidationError | null {
  const e = err as { name?: string; code?: unknown; message?: string; errmsg?: string };
  const rejected = e?.name === 'BSONError' || (typeof e?.code === 'number' && REJECTED_CODES.has(e.code));
  if (!rejected) return null;
  const reason = String(e.errmsg ?? e.message ?? 'rejected').slice(0, 300);
  return new ValidationError('The definition cannot be stored', [{ path: '(root)', message: `was refused by the store: ${reason}` }]);
}

/** What a repository rethrows for a store error: Tock's error where there is one, else the error itself. */
export function storeError(err: unknown): unknown {
  if (isStoreUnavailable(err)) return new UnavailableError('MongoDB is unavailable', 5, { cause: err });
  return storeRejection(err) ?? err;
}

/** Runs a store operation, translating its failure (storeError). */
export async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw storeError(err);
  }
}
