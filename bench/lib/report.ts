import type { Figure } from './context';

export interface Row {
  label: string;
  unit: string;
  fig: Figure | null;
  /** The issue's bar, in words. */
  bar: string;
  /** value / reference, when the bar is relative to another figure of the run. */
  ratio?: number | null;
  ratioOf?: string;
  pass?: boolean | null;
  digits?: number;
}

const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '-'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** A fixed-width table: figure, median, min, max, bar, ratio, verdict. */
export function renderTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    `${r.label} (${r.unit})`,
    fmt(r.fig?.median, r.digits),
    fmt(r.fig?.min, r.digits),
    fmt(r.fig?.max, r.digits),
    String(r.fig?.reps ?? '-'),
    r.bar,
    r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}${r.ratioOf ? ` x ${r.ratioOf}` : ''}`,
    r.pass === undefined || r.pass === null
      ? r.bar.startsWith('reference') || r.bar.startsWith('report')
        ? ''
        : 'n/a'
      : r.pass
        ? 'ok'
        : 'MISSED',
  ]);
  const head = ['figure', 'median', 'min', 'max', 'n', 'bar', 'ratio', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => pad(v, widths[i]!, i >= 1 && i <= 4)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The same rows as a Markdown table (for BENCHMARKS.md). */
export function renderMarkdown(rows: Row[]): string {
  const out = ['| figure | median | min | max | n | bar | ratio | result |', '|---|--:|--:|--:|--:|---|---|---|'];
  for (const r of rows) {
    const verdict = r.pass === undefined || r.pass === null ? '' : r.pass ? 'ok' : '**missed**';
    const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}${r.ratioOf ? ` × ${r.ratioOf}` : ''}`;
    out.push(
      `| ${r.label} (${r.unit}) | ${fmt(r.fig?.median, r.digits)} | ${fmt(r.fig?.min, r.digits)} | ${fmt(r.fig?.max, r.digits)} | ` +
        `${r.fig?.reps ?? '-'} | ${r.bar} | ${ratio} | ${verdict} |`,
    );
  }
  return out.join('\n');
}
