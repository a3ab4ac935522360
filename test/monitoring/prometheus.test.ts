import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/embedded/local-servers';
import { useCluster } from '../helpers/e2e';
import { figure } from '../helpers/fault';
import { http } from '../helpers/http';
import { metricsPortOf } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * deploy/prometheus.yml and deploy/grafana/tock.json against a real Prometheus scraping a real API
 * (with a metrics:read key from a credentials file, as in Compose) and two worker processes: every
 * target is up, Prometheus's sum of tock_runs_total equals the execution records, and every panel's
 * query runs; the panels that a mixed run must fill return data. `npm run test:monitoring` builds
 * Prometheus first (scripts/install-prometheus.sh); Grafana itself cannot be obtained here.
 */
const ROOT = path.resolve(__dirname, '../..');
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '';
/** Panels a run of succeeding and dead-lettered jobs with API traffic must show data in. */
const MUST_SHOW = ['Runs/s', 'Runs/s by outcome', 'Run duration', 'Start lateness by schedule kind', 'Queue depth by state'];
const MUST_SHOW_TOO = ['Open dead-letter entries', 'History writer', 'API requests/s by route', 'API latency p95 by route'];

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe('monitoring: Prometheus with the shipped configuration and dashboard', () => {
  const e = useCluster({ COUNTER_FLUSH_INTERVAL_MS: '200' }, 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-prometheus-'));
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';

  const query = async (expr: string): Promise<QueryAnswer> =>
    (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as QueryAnswer;
  const scalar = async (expr: string): Promise<number> => Number((await query(expr)).data?.result[0]?.value[1] ?? NaN);

  beforeAll(async () => {
    if (!PROMETHEUS) throw new Error('PROMETHEUS_BIN is not set: run `npm run test:monitoring`');
    const key = await http(e.cluster.baseUrl, 'POST', '/api/v1/keys', { name: 'prometheus', scopes: ['metrics:read'] });
    expect(key.status).toBe(201);
    writeFileSync(path.join(dir, 'metrics-key'), (key.body as { key: string }).key, { mode: 0o600 });

    // The shipped file, with this machine's addresses in place of Compose's names.
    const config = parse(readFileSync(path.join(ROOT, 'deploy/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: {
        job_name: string;
        authorization?: { credentials_file: string };
        static_configs?: unknown;
        dns_sd_configs?: unknown;
      }[];
    };
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    for (const job of config.scrape_configs) {
      if (job.authorization) job.authorization.credentials_file = path.join(dir, 'metrics-key');
      if (job.job_name === 'tock-api') job.static_configs = [{ targets: [new URL(e.cluster.baseUrl).host] }];
      if (job.job_name === 'tock-worker') {
        delete job.dns_sd_configs;
        job.static_configs = [{ targets: e.cluster.workers.map((w) => `127.0.0.1:${metricsPortOf(w)}`) }];
      }
    }
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-20_000)));
    await waitFor('Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok === true, {
      timeoutMs: 30_000,
      intervalMs: 250,
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${promLog}`);
    });
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (prometheus && prometheus.exitCode === null) await new Promise((r) => prometheus!.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every process, counts what the store holds, and runs every panel of the dashboard', async () => {
    await waitFor('every target to be up', async () => (await scalar('sum(up{job=~"tock-.*"})')) === 3, {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    const create = async (body: object) => expect((await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body)).status).toBe(201);
    await create({ name: 'every second', handler: 'noop', schedule: { kind: 'interval', everyMs: 1000, limit: 8 } });
    await create({
      name: 'always failing',
      handler: 'simulate',
      payload: { failureRate: 1 },
      schedule: { kind: 'delay', delayMs: 200 },
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } },
    });

    // Prometheus's view of the run counter reaches what the store holds (both settle after the last run).
    let seen = -1;
    let records = -2;
    await waitFor(
      "Prometheus's tock_runs_total to equal the execution records",
      async () => {
        records = await e.db.models.Execution.countDocuments();
        seen = await scalar('sum(tock_runs_total)');
        return records >= 10 && seen === records;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: Prometheus ${seen}, store ${records}`);
    });
    figure('Prometheus sum(tock_runs_total) against execution records', `${seen} = ${records}`);
    // rate() needs two samples of a series inside its window after the increase.
    await waitFor('a run rate over 30 s', async () => (await scalar('sum(rate(tock_runs_total[30s]))')) > 0, {
      timeoutMs: 15_000,
      intervalMs: 500,
    });

    const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/tock.json'), 'utf8')) as { panels: Panel[] };
    const rows: { panel: string; expr: string; series: number }[] = [];
    for (const panel of dashboard.panels)
      for (const t of panel.targets ?? []) {
        // Grafana's $__rate_interval is at least four scrape intervals; 30 s covers the whole run here.
        const answer = await query(t.expr.replaceAll('$__rate_interval', '30s'));
        expect({ panel: panel.title, expr: t.expr, status: answer.status, error: answer.error }).toEqual({
          panel: panel.title,
          expr: t.expr,
          status: 'success',
          error: undefined,
        });
        rows.push({ panel: panel.title, expr: t.expr, series: answer.data!.result.filter((r) => r.value[1] !== 'NaN').length });
      }
    console.log(rows.map((r) => `${String(r.series).padStart(3)} series  ${r.panel}: ${r.expr}`).join('\n'));
    const withData = new Set(rows.filter((r) => r.series > 0).map((r) => r.panel));
    expect([...MUST_SHOW, ...MUST_SHOW_TOO].filter((p) => !withData.has(p))).toEqual([]);
    figure('dashboard panels with data', `${withData.size} of ${dashboard.panels.length}`);
  });
});
