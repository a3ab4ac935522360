/** The queries history retention makes (test/integration/indexes.test.ts checks that an index serves each). */
export const RETENTION_QUERIES = {
  finishedBefore: (cutoff: Date) => ({ finishedAt: { $lt: cutoff } }),
  ranSince: (since: Date) => ({ lastRunAt: { $gte: since } }),
  newestFirst: { startedAt: -1, _id: -1 } as const,
};
