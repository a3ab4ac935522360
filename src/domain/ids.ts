/** Job ids are MongoDB ObjectIds: 24 hex digits, the first 8 the creation time in seconds. */
const JOB_ID = /^[0-9a-f]{24}$/i;

export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

/** When the job with this id was created (the ObjectId's timestamp), in ms; NaN for no job id. */
export function jobIdTime(id: string): number {
  return isJobId(id) ? Number.parseInt(id.slice(0, 8), 16) * 1000 : Number.NaN;
}
