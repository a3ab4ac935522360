import { Types } from 'mongoose';
import { Webhook } from 'standardwebhooks';
import { useCluster } from '../helpers/e2e';
import { figure, startSink, type Sink, type SinkHit } from '../helpers/fault';
import { http } from '../helpers/http';
import { waitFor } from '../helpers/wait-for';

/**
 * Notifications against real API and worker processes: a job failing every second tells its
 * receivers at most once per window, every event counted exactly once across deliveries, each
 * delivery signed with the job's secret; skipped slots reach onMisfire; a receiver that fails or
 * does not exist costs the runs nothing.
 */
const WINDOW_MS = 3000;

interface Notification {
  type: string;
  jobId: string;
  jobName: string;
  count: number;
  windowSeconds: number;
  latest: { runId: string; executionId: string; status: string; error: { code: string } | null };
}

describe('failure notifications (API + 2 workers as processes)', () => {
  const e = useCluster({ HTTP_ALLOW_PRIVATE_NETWORKS: 'true', NOTIFY_WINDOW_MS: String(WINDOW_MS), COUNTER_FLUSH_INTERVAL_MS: '100' }, 2);
  let sink: Sink;
  beforeAll(async () => {
    sink = await startSink((req, res) => {
      res.statusCode = req.url === '/broken' ? 500 : 204;
      res.end();
    });
  });
  afterAll(() => sink?.close());

  const hitsAt = (path: string, jobId: string): (SinkHit & { n: Notification })[] =>
    sink.hits
      .filter((h) => h.path === path)
      .map((h) => ({ ...h, n: JSON.parse(h.body) as Notification }))
      .filter((h) => h.n.jobId === jobId);
  const create = async (body: object) => {
    const res = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; signingSecret: string };
  };
  const pause = async (id: string) => expect((await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/pause`)).status).toBe(200);
  const records = (jobId: string, status: string) =>
    e.db.models.Execution.countDocuments({ jobId: new Types.ObjectId(jobId), status } as never);
  /** After the job stops, the last window's events arrive at its end: wait until the counts add up. */
  const settle = async (path: string, jobId: string, truth: () => Promise<number>) => {
    let total = -1;
    let expected = -2;
    try {
      await waitFor(
        `${path} to count every event`,
        async () => {
          expected = await truth();
          total = hitsAt(path, jobId).reduce((sum, h) => sum + h.n.count, 0);
          return total === expected;
        },
        { timeoutMs: 4 * WINDOW_MS + 20_000, intervalMs: 250 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: notified ${total} of ${expected} events`, { cause: err });
    }
    return total;
  };

  it('coalesces a job failing every second into signed notifications that count every event', async () => {
    const job = await create({
      name: 'always failing',
      handler: 'simulate',
      payload: { failureRate: 1 },
      schedule: { kind: 'interval', everyMs: 1000 },
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } },
      notify: { onFailure: `${sink.url}/failure`, onDeadLetter: `${sink.url}/dead-letter` },
    });
    await waitFor('14 failed attempts', async () => (await records(job.id, 'failed')) >= 14, { timeoutMs: 60_000, intervalMs: 250 });
    await pause(job.id);

    const failed = await settle('/failure', job.id, () => records(job.id, 'failed'));
    const dead = await settle('/dead-letter', job.id, () => e.db.models.DeadLetter.countDocuments({ jobId: new Types.ObjectId(job.id) }));
    const deliveries = hitsAt('/failure', job.id);
    // At most one per window: consecutive deliveries are a window apart (less a little for the claim's clock).
    const gaps = deliveries.slice(1).map((h, i) => h.at - deliveries[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(WINDOW_MS - 250);
    expect(deliveries.length).toBeLessThan(failed);

    const webhook = new Webhook(job.signingSecret);
    for (const hit of [...deliveries, ...hitsAt('/dead-letter', job.id)]) {
      expect(() => webhook.verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();
      expect(hit.headers['content-type']).toBe('application/json');
    }
    const first = deliveries[0]!.n;
    expect(first).toMatchObject({ type: 'job.attempt.failed', jobName: 'always failing', windowSeconds: WINDOW_MS / 1000 });
    expect(first.latest).toMatchObject({ status: 'failed', error: { code: 'simulated' } });
    expect(hitsAt('/dead-letter', job.id)[0]!.n.type).toBe('job.dead-lettered');
    figure('notify.coalesced', {
      failedAttempts: failed,
      failureDeliveries: deliveries.length,
      deadLettered: dead,
      minGapMs: Math.min(...gaps),
    });
  });

  it('tells onMisfire of skipped slots', async () => {
    const job = await create({
      name: 'overlapping',
      handler: 'sleep',
      payload: { durationMs: 2500 },
      schedule: { kind: 'interval', everyMs: 1000, overlap: 'forbid' },
      notify: { onMisfire: `${sink.url}/misfire` },
    });
    await waitFor('3 skipped slots', async () => (await records(job.id, 'skipped')) >= 3, { timeoutMs: 60_000, intervalMs: 250 });
    await pause(job.id);
    const skipped = await settle('/misfire', job.id, () => records(job.id, 'skipped'));
    expect(skipped).toBeGreaterThanOrEqual(3);
    expect(hitsAt('/misfire', job.id)[0]!.n).toMatchObject({ type: 'job.slot.skipped', latest: { status: 'skipped' } });
  });

  it('a receiver that fails or does not exist costs the runs nothing', async () => {
    const healthy = await create({
      name: 'healthy',
      handler: 'simulate',
      payload: { failureRate: 1 },
      schedule: { kind: 'interval', everyMs: 1000 },
      notify: { onFailure: `${sink.url}/failure` },
    });
    const broken = await create({
      name: 'broken receivers',
      handler: 'simulate',
      payload: { failureRate: 1 },
      schedule: { kind: 'interval', everyMs: 1000 },
      // One answers 500, one refuses connections (a port nothing listens on), one never answers within the timeout.
      notify: { onFailure: `${sink.url}/broken`, onDeadLetter: 'http://127.0.0.1:9/', onMisfire: 'http://10.255.255.1/' },
    });
    await waitFor(
      '6 failed runs of each',
      async () => (await records(healthy.id, 'failed')) >= 6 && (await records(broken.id, 'failed')) >= 6,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    await Promise.all([pause(healthy.id), pause(broken.id)]);
    // Both jobs ran on the same schedule: the broken receivers slowed neither.
    const [h, b] = [await records(healthy.id, 'failed'), await records(broken.id, 'failed')];
    expect(Math.abs(h - b)).toBeLessThanOrEqual(2);
    await waitFor('two deliveries to the receiver that fails', () => hitsAt('/broken', broken.id).length >= 2, {
      timeoutMs: 4 * WINDOW_MS + 10_000,
      intervalMs: 250,
    });
    figure('notify.brokenReceivers', { healthyFailedRuns: h, brokenFailedRuns: b, deliveriesTo500: hitsAt('/broken', broken.id).length });
  });
});
