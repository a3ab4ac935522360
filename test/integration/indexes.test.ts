import { ACTIVE_JOBS, buildListQuery } from '../../src/persistence/job-repository';
import { RETENTION_QUERIES } from '../../src/persistence/retention-queries';
import { buildExecutionQuery, EXECUTION_SORT, finishedSince, runIdsFilter, STATS_QUERY } from '../../src/persistence/execution-repository';
import { buildDeadLetterQuery, DEAD_LETTER_SORT } from '../../src/persistence/dead-letter-repository';
import { pruneFilter } from '../../src/persistence/idempotency-repository';
import type { Database } from '../../src/persistence/mongo';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';

/**
 * FerretDB cannot show query plans, so this checks the shapes: for every list query the
 * repositories build, the server holds a named index whose leading keys are the query's equality
 * fields followed by its sort (or range) keys, which is what MongoDB needs to answer it from the
 * index without a collection scan or an in-memory sort.
 */
function equalityFields(filter: Record<string, unknown>): string[] {
  return Object.entries(filter)
    .filter(
      ([k, v]) =>
        !k.startsWith('$') && (typeof v !== 'object' || v === null || v instanceof Date || (v as { _bsontype?: string })._bsontype),
    )
    .map(([k]) => k);
}

function served(indexes: { name: string; key: Record<string, number> }[], eq: string[], sort: Record<string, number>): string | undefined {
  const sortKeys = Object.entries(sort);
  return indexes.find((ix) => {
    const keys = Object.entries(ix.key);
    const prefix = keys.slice(0, eq.length).map(([k]) => k);
    if (prefix.sort().join() !== [...eq].sort().join()) return false;
    const rest = keys.slice(eq.length);
    const sameDir = sortKeys.every(([k, d], i) => rest[i]?.[0] === k && rest[i]?.[1] === d);
    const reversed = sortKeys.every(([k, d], i) => rest[i]?.[0] === k && rest[i]?.[1] === -d);
    return sameDir || reversed;
  })?.name;
}

describe('indexes', () => {
  let ctx: TestContext;
  let db: Database;
  beforeAll(async () => {
    ctx = newTestContext();
    db = await openDatabase(ctx);
  });
  afterAll(() => cleanup(ctx, db));

  const listIndexes = async (name: string) =>
    (await db.conn.db!.collection(name).listIndexes().toArray()) as unknown as { name: string; key: Record<string, number> }[];

  it('every job list filter and sort has a named index', async () => {
    const indexes = await listIndexes('jobs');
    const shapes = [
      {},
      { status: 'scheduled' as const },
      { handler: 'http' },
      { scheduleKind: 'cron' as const },
      { nextRunBefore: new Date() },
      { status: 'scheduled' as const, nextRunBefore: new Date() },
      { handler: 'http', nextRunBefore: new Date() },
      { scheduleKind: 'cron' as const, nextRunBefore: new Date() },
    ];
    for (const shape of shapes) {
      const { filter, sort } = buildListQuery(shape);
      const eq = equalityFields(filter as Record<string, unknown>);
      const name =
        served(indexes, eq, sort as Record<string, number>) ?? (eq.length === 0 && Object.keys(sort).join() === '_id' ? '_id_' : undefined);
      expect({ shape: Object.keys(shape), index: name }).toEqual({
        shape: Object.keys(shape),
        index: expect.stringMatching(/^(jobs_|_id_)/),
      });
    }
  });

  it('execution and dead-letter lists have named indexes', async () => {
    const executions = await listIndexes('executions');
    for (const status of [undefined, 'failed' as const]) {
      const eq = equalityFields(buildExecutionQuery({ jobId: '0123456789abcdef01234567', status }) as Record<string, unknown>);
      expect(served(executions, eq, EXECUTION_SORT)).toMatch(/^executions_/);
    }
    const deadLetters = await listIndexes('deadletters');
    for (const jobId of [undefined, '0123456789abcdef01234567']) {
      const eq = equalityFields(buildDeadLetterQuery({ jobId, state: 'open' }) as Record<string, unknown>);
      expect(served(deadLetters, eq, DEAD_LETTER_SORT)).toMatch(/^deadletters_/);
    }
  });

  it('the reconciler and retention queries have named indexes', async () => {
    const jobs = await listIndexes('jobs');
    const executions = await listIndexes('executions');
    const active = ACTIVE_JOBS.filter as Record<string, unknown>;
    expect(served(jobs, equalityFields(active), ACTIVE_JOBS.sort)).toMatch(/^jobs_/);
    // A range or $in filter on one field needs an index that leads with it.
    const leading = (filter: Record<string, unknown>) => ({ [Object.keys(filter)[0]!]: 1 });
    expect(served(jobs, [], leading(RETENTION_QUERIES.ranSince(new Date())))).toBe('jobs_lastRunAt');
    expect(served(executions, [], leading(RETENTION_QUERIES.finishedBefore(new Date())))).toBe('executions_finishedAt');
    expect(served(executions, ['jobId'], RETENTION_QUERIES.newestFirst)).toMatch(/^executions_/);
    expect(served(executions, [], leading(runIdsFilter(['x-v1'])))).toBe('executions_runId');
  });

  it('the stats and overview reads have named indexes', async () => {
    const executions = await listIndexes('executions');
    const stats = STATS_QUERY.filter('0123456789abcdef01234567', new Date()) as Record<string, unknown>;
    expect(served(executions, equalityFields(stats), STATS_QUERY.sort)).toBe('executions_jobId_startedAt');
    expect(served(executions, [], { [Object.keys(finishedSince(new Date()))[0]!]: 1 })).toBe('executions_finishedAt');
    const deadLetters = await listIndexes('deadletters');
    expect(served(deadLetters, ['state'], {})).toMatch(/^deadletters_state/);
  });

  it('the idempotency-key prune has a named index on its range field', async () => {
    const indexes = await listIndexes('idempotencykeys');
    const filter = pruneFilter(new Date()) as Record<string, unknown>;
    expect(equalityFields(filter)).toEqual([]);
    const [rangeField] = Object.keys(filter);
    expect(served(indexes, [], { [rangeField!]: 1 })).toBe('idempotencykeys_expiresAt');
  });
});
