import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { METRIC_NAMES, TockMetrics } from '../../src/observability/metrics';

/**
 * deploy/grafana/tock.json cannot drift from the code: every metric its PromQL names is one a
 * process registers (Tock's own and prom-client's defaults), histogram series only of histograms,
 * and every label it selects or groups by is one that metric has.
 */
const DASHBOARD = path.resolve(__dirname, '../../deploy/grafana/tock.json');

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** The metric names and labels of a process with every metric registered. */
async function registered(): Promise<Map<string, { type: string; labels: Set<string> }>> {
  const m = new TockMetrics();
  m.historyBuffer(() => 0);
  m.queueJobs(async () => ({ waiting: 0 }));
  m.deadLetters(async () => 0);
  const byName = new Map<string, { type: string; labels: Set<string> }>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    const labels = new Set<string>(['job', 'instance', 'service']);
    for (const v of metric.values) for (const l of Object.keys(v.labels)) labels.add(l);
    // Labels declared but not yet used (no samples) are in the text exposition's absence: take them from the metric.
    const declared = (m.registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    for (const l of declared) labels.add(l);
    byName.set(metric.name, { type: String(metric.type), labels });
  }
  return byName;
}

const KEYWORDS = new Set(['by', 'without', 'and', 'or', 'unless', 'offset', 'bool', 'on', 'ignoring', 'group_left', 'group_right']);

/** Metric names an expression reads: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1]!))
    .map((m) => m[1]!)
    .filter((n) => !/^\d/.test(n));
}

function expressions(): { panel: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

describe('the Grafana dashboard', () => {
  it('reads its expressions as it should', () => {
    expect(metricNames('sum by (le, kind) (rate(tock_x_bucket{kind="a",b=~"c|d"}[5m])) / max(up)')).toEqual(['tock_x_bucket', 'up']);
  });

  it('names only metrics the code registers, with their labels', async () => {
    const known = await registered();
    expect([...known.get('tock_runs_total')!.labels]).toEqual(expect.arrayContaining(['handler', 'outcome']));
    const exprs = expressions();
    expect(exprs.length).toBeGreaterThan(10);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      if (names.length === 0) problems.push(`${panel}: no metric in ${expr}`);
      const labels = new Set<string>(['le']);
      for (const name of names) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const metric = known.get(name) ?? known.get(base);
        if (!metric) {
          problems.push(`${panel}: ${name} is not registered`);
          continue;
        }
        if (name !== base && !known.has(name) && metric.type !== 'histogram')
          problems.push(`${panel}: ${name}: ${base} is a ${metric.type}`);
        used.add(known.has(name) ? name : base);
        for (const l of metric.labels) labels.add(l);
      }
      const selected = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
        [...m[1]!.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)].map((x) => x[1]!),
      );
      const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
      for (const l of [...selected, ...grouped])
        if (!labels.has(l)) problems.push(`${panel}: label ${l} is not a label of ${names.join(', ')}`);
    }
    expect(problems).toEqual([]);
    // Every Tock metric is on the dashboard.
    expect(METRIC_NAMES.filter((n) => !used.has(n))).toEqual([]);
  });

  it('lists in METRIC_NAMES exactly the tock_ metrics registered', async () => {
    const names = [...(await registered()).keys()].filter((n) => n.startsWith('tock_'));
    expect(names.sort()).toEqual([...METRIC_NAMES].sort());
  });
});

describe('deploy/prometheus.yml', () => {
  it('scrapes the API with a key from a file and every worker found by DNS on port 9464', () => {
    const config = parse(readFileSync(path.resolve(__dirname, '../../deploy/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string }; dns_sd_configs?: unknown[] }[];
    };
    const jobs = Object.fromEntries(config.scrape_configs.map((c) => [c.job_name, c]));
    expect(jobs['tock-api']!.authorization).toEqual({ type: 'Bearer', credentials_file: '/etc/prometheus/secrets/metrics-key' });
    expect(jobs['tock-worker']!.dns_sd_configs).toEqual([{ names: ['worker'], type: 'A', port: 9464, refresh_interval: '30s' }]);
  });
});
