import { Types } from 'mongoose';
import type { ExecutionRecord } from '../../src/domain/execution';
import { createLogger } from '../../src/observability/logger';
import { TockMetrics } from '../../src/observability/metrics';
import { parseExposition, sumBy, sumOf } from '../helpers/prometheus';
import { HistoryWriter } from '../../src/persistence/history-writer';
import { connectDatabase, type Database } from '../../src/persistence/mongo';
import { RunStatsCoalescer } from '../../src/persistence/run-stats';
import { dedicatedFerret, type RestartableServer } from '../helpers/fault';
import { waitFor } from '../helpers/wait-for';

/**
 * The worker's write path across a MongoDB outage, against a FerretDB this file stops and restarts:
 * records wait in a bounded buffer (oldest dropped past the bound) and are written when it is back;
 * run counters are kept until written.
 */
const logger = createLogger('silent');
const jobId = new Types.ObjectId().toHexString();

/** The writer's callback as a promise: true once the record is in MongoDB, false if it was dropped. */
function written(history: HistoryWriter, r: ExecutionRecord): Promise<boolean> {
  return new Promise((resolve) => history.addExecution(r, resolve));
}

function record(n: number): ExecutionRecord {
  const at = new Date();
  return {
    id: `run-${n}.1`,
    jobId,
    runId: `run-${n}`,
    attempt: 1,
    status: 'succeeded',
    trigger: 'schedule',
    scheduledFor: at,
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    driftMs: 0,
    workerId: 'test',
    error: null,
    result: null,
  };
}

describe('HistoryWriter and RunStatsCoalescer across a MongoDB outage', () => {
  let ferret: RestartableServer;
  let db: Database;

  beforeAll(async () => {
    ferret = await dedicatedFerret();
    db = await connectDatabase(ferret.url, { ensureIndexes: true });
  });
  afterAll(async () => {
    await db?.close().catch(() => undefined);
    await ferret?.destroy();
  });

  it('tells when a record is durable, buffers a bounded number while down, writes them when back', async () => {
    const metrics = new TockMetrics({ defaultMetrics: false });
    const history = new HistoryWriter(db.models, { flushIntervalMs: 20, batchSize: 2, maxBuffered: 5 }, logger, metrics);
    metrics.historyBuffer(() => history.pending);
    const scrape = async () => parseExposition(await metrics.render());
    await expect(written(history, record(0))).resolves.toBe(true);
    expect(sumOf(await scrape(), 'tock_history_flush_seconds_count')).toBe(1);
    expect(await db.models.Execution.countDocuments({ _id: 'run-0.1' })).toBe(1);

    await ferret.stop();
    const outcomes = Array.from({ length: 10 }, (_, i) => written(history, record(i + 1)));
    // Past the bound the oldest are dropped (and say so); the rest wait.
    await expect(Promise.all(outcomes.slice(0, 5))).resolves.toEqual([false, false, false, false, false]);
    expect(history.dropped).toBe(5);
    expect(history.pending).toBe(5);
    await new Promise((r) => setTimeout(r, 2500)); // at least one failed flush round
    // The failed flushes are counted, and the gauge shows what waits.
    const down = await scrape();
    expect(sumBy(down, 'tock_store_errors_total', 'operation')).toEqual({ 'history.insert.executions': expect.any(Number) });
    expect(sumOf(down, 'tock_store_errors_total')).toBeGreaterThan(0);
    expect(sumOf(down, 'tock_history_buffered_records')).toBe(5);
    await ferret.start();
    await expect(Promise.all(outcomes.slice(5))).resolves.toEqual([true, true, true, true, true]);
    const ids = (await db.models.Execution.find({}, { _id: 1 }).lean()).map((d) => d._id).sort();
    expect(ids).toEqual(['run-0.1', 'run-10.1', 'run-6.1', 'run-7.1', 'run-8.1', 'run-9.1']);
    await expect(history.close()).resolves.toBe(0);
    expect(sumOf(await scrape(), 'tock_history_buffered_records')).toBe(0);
  }, 60_000);

  it('keeps run counters through the outage and writes them exactly once', async () => {
    const { _id } = await db.models.Job.create({
      name: 'counted',
      handler: 'noop',
      schedule: { kind: 'interval', everyMs: 1000 },
      retry: { attempts: 1 },
      timeoutMs: 1000,
      status: 'scheduled',
    });
    const id = _id.toHexString();
    const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 20 }, logger);
    await ferret.stop();
    for (let i = 0; i < 7; i++) {
      stats.record({ jobId: id, version: 1, finishedRun: true, failed: i === 6, status: 'succeeded', startedAt: new Date() });
      await new Promise((r) => setTimeout(r, 300));
    }
    await ferret.start();
    await waitFor('the counters to be written', async () => (await db.models.Job.findById(id).lean())?.runCount === 7, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await expect(stats.close()).resolves.toBe(0);
    expect(await db.models.Job.findById(id).lean()).toMatchObject({ runCount: 7, failureCount: 1 });
  }, 60_000);
});
