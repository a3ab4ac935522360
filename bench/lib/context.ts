import type { BenchServers } from './servers';
import { summarize, type Summary } from './stats';

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
  return { ...summarize(values), reps: values.length, detail };
}
