/**
 * Pauses in the worker's runs (RunActivity), which counter updates wait for. `quiet` resolves
 * once no run has started for a short while, or at once when runs have been starting without a
 * pause for `maxBusyMs` (steady load: waiting would only leave the store idle); it returns how long
 * it waited.
 */
export interface Pauses {
  quiet(maxBusyMs: number): Promise<number>;
}
