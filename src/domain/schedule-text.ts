import type { Schedule } from './schedule';

/**
 * A schedule in words, for people: "every 5 minutes", "cron 0 9 * * 1 Europe/Berlin". Imports
 * nothing at run time, so the web dashboard bundles it too and both say the same thing.
 */
export function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case 'once':
      return `once at ${s.runAt}`;
    case 'delay':
      return `once, ${duration(s.delayMs)} after it was set`;
    case 'interval':
      return `every ${duration(s.everyMs, true)}${bounds(s)}`;
    case 'cron':
      return `cron ${s.expression.trim()}${s.timezone ? ` ${s.timezone}` : ''}${bounds(s)}`;
  }
}

const UNITS: [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
];

/** 300000 -> "5 minutes", 90000 -> "1 minute 30 seconds", 1500 -> "1.5 seconds"; `every` drops a lone "1". */
export function duration(ms: number, every = false): string {
  if (ms === 0) return '0 seconds';
  if (ms < 1000 || (ms < 60_000 && ms % 1000 !== 0)) return `${ms / 1000} seconds`;
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of UNITS) {
    const n = Math.floor(rest / size);
    if (n === 0) continue;
    parts.push(n === 1 ? `1 ${unit}` : `${n} ${unit}s`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest} ms`);
  const text = parts.join(' ');
  return every && parts.length === 1 && text.startsWith('1 ') ? text.slice(2) : text;
}

function bounds(s: { startAt?: string; endAt?: string; limit?: number }): string {
  const out: string[] = [];
  if (s.startAt) out.push(`from ${s.startAt}`);
  if (s.endAt) out.push(`until ${s.endAt}`);
  if (s.limit !== undefined) out.push(s.limit === 1 ? 'once at most' : `at most ${s.limit} times`);
  return out.length ? `, ${out.join(', ')}` : '';
}
