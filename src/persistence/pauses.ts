/**
 * Pauses in the worker's runs (RunActivity), which counter updates wait for: `quiet` resolves once
 * no run has started for a short while, or after `maxMs`, with how long it waited.
 */
export interface Pauses {
  quiet(maxMs: number): Promise<number>;
}
