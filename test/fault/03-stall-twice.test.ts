import { onceJobId } from '../../src/queue/job-queue';
import { createJobs, executionRecords, figure, tockEnv, useFaultContext } from '../helpers/fault';
import { http } from '../helpers/http';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 3: a job whose worker is killed twice, with maxStalledCount 1, ends in the dead letter with
 * the stall reason; retrying it from there runs it once.
 */
const SETTINGS = { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_MAX_STALLED_COUNT: '1' };

const f = useFaultContext();

async function killWhileRunning(env: Record<string, string>, name: string, runId: string, attempt: number): Promise<void> {
  const [worker] = await spawnWorkers(env, 1, name);
  f.procs.push(worker!);
  await waitFor(`attempt ${attempt} to run on ${name}`, async () => {
    const job = await f.queue.getJob(runId);
    return job?.processedBy === `${name}1` && job.attemptsStarted === attempt && (await job.getState()) === 'active';
  });
  await worker!.kill('SIGKILL');
}

it('a job stalled twice lands in the dead letter with the stall reason, and its retry runs once', async () => {
  const { ctx, db, queue, procs } = f;
  const env = tockEnv({ redisUrl: ctx.redisUrl, mongoUrl: ctx.mongoUrl, prefix: ctx.prefix }, SETTINGS);
  const { api, baseUrl } = await spawnApi(env);
  procs.push(api);
  const [id] = await createJobs(baseUrl, [
    { name: 'stalls', handler: 'sleep', payload: { durationMs: 4000 }, schedule: { kind: 'delay', delayMs: 0 } },
  ]);
  const runId = onceJobId({ id: id!, version: 1 });

  const started = Date.now();
  await killWhileRunning(env, 'a', runId, 1);
  await killWhileRunning(env, 'b', runId, 2);
  const [survivor] = await spawnWorkers(env, 1, 'c');
  procs.push(survivor!);

  const entry = await waitFor('the dead-letter entry', async () => {
    const res = await http(baseUrl, 'GET', `/api/v1/dead-letter?jobId=${id}`);
    return res.body.items?.[0];
  });
  figure('stall-twice: time from first start to dead letter (ms)', Date.now() - started);
  expect(entry).toMatchObject({ reason: 'stalled', runId, error: { code: 'stalled' } });
  const records = await executionRecords(db, { runId });
  expect(records.map((r) => [r.attempt, r.status])).toEqual([
    [1, 'stalled'],
    [2, 'stalled'],
  ]);

  const retry = await http(baseUrl, 'POST', `/api/v1/dead-letter/${entry.id}/retry`);
  expect(retry.status).toBe(202);
  const retryRunId: string = retry.body.runId;
  await waitFor('the retry to succeed', async () => (await executionRecords(db, { runId: retryRunId })).length > 0, {
    timeoutMs: 15_000,
  });
  // Give a duplicate every chance to appear before counting: the retry's job must be gone from Redis.
  await waitFor('the retry job to finish in Redis', async () => (await queue.getJob(retryRunId)) === undefined);
  const retryRecords = await executionRecords(db, { runId: retryRunId });
  figure('stall-twice: retry attempts', retryRecords.length);
  expect(retryRecords.map((r) => r.status)).toEqual(['succeeded']);
  expect(retryRecords[0]!.workerId).toBe('c1');
});
