import { problemOf } from '../../src/api/middleware/problem';
import { UnavailableError } from '../../src/domain/errors';
import { isDuplicateOnly, isStoreUnavailable, storeError } from '../../src/persistence/store-errors';

/** Builds an error of the given name the way the driver and mongoose shape theirs. */
const error = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, extra);

/** Node's own error, which the driver's socket write rejects with when the server has just closed the socket. */
const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE', syscall: 'write' });

describe('isStoreUnavailable', () => {
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
    ['a bare socket error, as the driver sometimes hands one on', epipe],
  ])('is true for %s, which a repository rethrows as a 503', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(true);
    const translated = storeError(err);
    expect(translated).toBeInstanceOf(UnavailableError);
    expect(problemOf(translated)).toEqual({
      problem: expect.objectContaining({ status: 503, detail: 'MongoDB is unavailable' }),
      retryAfter: 5,
    });
  });

  it.each([
    ['a duplicate key', error('MongoServerError', 'E11000 duplicate key error', { code: 11000 })],
    ['a plain error', new Error('boom')],
    ['an error that only carries a socket error code', Object.assign(new Error('an application error'), { code: 'ECONNRESET' })],
  ])('is false for %s, which stays what it is (a 500 if nothing else knows it)', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(false);
    expect(storeError(err)).toBe(err);
    expect(problemOf(err)).toBeNull();
  });
});

describe('isDuplicateOnly', () => {
  it('is true when every refused document was a duplicate, in either shape the driver gives', () => {
    expect(isDuplicateOnly({ code: 11000 })).toBe(true);
    expect(isDuplicateOnly({ writeErrors: { index: 0, code: 11000 } })).toBe(true);
    expect(
      isDuplicateOnly({
        writeErrors: [
          { index: 0, code: 11000 },
          { index: 3, code: 11000 },
        ],
      }),
    ).toBe(true);
    expect(
      isDuplicateOnly({
        writeErrors: [
          { index: 0, code: 11000 },
          { index: 3, code: 2 },
        ],
      }),
    ).toBe(false);
    expect(isDuplicateOnly(new Error('network'))).toBe(false);
  });
});
