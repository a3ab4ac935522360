import { isConnectionError, isMongoUnavailable, problemOf } from '../../src/api/middleware/problem';

/** Builds an error of the given name the way the driver and mongoose shape theirs. */
const error = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, extra);

/** Node's own error, which the driver's socket write rejects with when the server has just closed the socket. */
const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE', syscall: 'write' });

describe('isMongoUnavailable', () => {
  // The shapes below are what an unordered insertMany threw against a FerretDB stopped just before it.
  it.each([
    [
      'a bulk write ended by a socket the server closed (EPIPE)',
      error('MongoBulkWriteError', epipe.message, { code: 'EPIPE', errorResponse: epipe }),
    ],
    [
      'a bulk write that found no server',
      error('MongoBulkWriteError', 'connect ECONNREFUSED', {
        errorResponse: error('MongoServerSelectionError', 'connect ECONNREFUSED', {
          cause: error('MongoNetworkError', 'connect ECONNREFUSED'),
        }),
      }),
    ],
    ['a network error', error('MongoNetworkError', 'connection 3 to 127.0.0.1:27017 closed')],
    ['a server shutting down', error('MongoServerError', 'interrupted at shutdown', { code: 11600 })],
    ['mongoose without a connection', error('MongooseError', 'Cannot call `jobs.insertOne()` before initial connection is complete')],
  ])('is true for %s', (_what, err) => {
    expect(isMongoUnavailable(err)).toBe(true);
    expect(problemOf(err)).toEqual({ problem: expect.objectContaining({ status: 503 }), retryAfter: 5 });
  });

  it.each([
    ['a duplicate key', error('MongoServerError', 'E11000 duplicate key error', { code: 11000 })],
    ['a bare socket error, which does not say whose it was', epipe],
    ['a plain error', new Error('boom')],
  ])('is false for %s', (_what, err) => {
    expect(isMongoUnavailable(err)).toBe(false);
  });
});

describe('a bare socket error', () => {
  it('answers 503 problem+json with Retry-After, naming both services it may have come from', () => {
    expect(isConnectionError(epipe)).toBe(true);
    expect(problemOf(epipe)).toEqual({
      problem: expect.objectContaining({ status: 503, detail: 'A connection to MongoDB or Redis failed' }),
      retryAfter: 5,
    });
  });

  it('is not taken for an error that only carries a code like it', () => {
    const err = Object.assign(new Error('an application error with a code of its own'), { code: 'ECONNRESET' });
    expect(isConnectionError(err)).toBe(false);
    expect(problemOf(err)).toBeNull();
  });
});
