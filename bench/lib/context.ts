import type { BenchServers } from './servers';
import type { Summary } from './stats';

export interface BenchContext {
  servers: BenchServers;
  quick: boolean;
  log(line: string): void;
  /** Free-form notes printed under the table and written to results.json. */
  note(line: string): void;
}

/** One measured figure: its repetitions, and what they were taken from. */
export interface Figure extends Summary {
  reps: number;
  detail?: unknown;
}

export function figure(values: (number | null)[], detail?: unknown): Figure {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const mid = Math.floor(known.length / 2);
  const median = known.length === 0 ? null : known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
  return { median, min: known[0] ?? null, max: known[known.length - 1] ?? null, values, reps: values.length, detail };
}
