import type { DeadLetterEntry, ExecutionRecord } from '../domain/execution';
import type { JobDefinition } from '../domain/job-definition';
import { mapPaths, parsePath, REDACTED } from '../domain/secrets';

/** The JSON resources of the API (openapi.yaml: Job, Execution, DeadLetterEntry). */
export function jobResource(def: JobDefinition) {
  return {
    id: def.id,
    name: def.name,
    handler: def.handler,
    // Secret fields are shown by name only; their values never leave the store but to a worker.
    payload: def.secretFields.length > 0 ? mapPaths(def.payload, def.secretFields.map(parsePath), () => REDACTED) : def.payload,
    secretFields: def.secretFields,
    schedule: def.schedule,
    retry: def.retry,
    timeoutMs: def.timeoutMs,
    status: def.status,
    nextRunAt: def.nextRunAt,
    lastRunAt: def.lastRunAt,
    lastExecutionStatus: def.lastExecutionStatus,
    runCount: def.runCount,
    failureCount: def.failureCount,
    createdAt: def.createdAt,
    updatedAt: def.updatedAt,
    version: def.version,
    ownerKeyId: def.ownerKeyId,
    notify: def.notify,
  };
}

export function executionResource(r: ExecutionRecord) {
  return { ...r };
}

export function deadLetterResource(e: DeadLetterEntry) {
  return { ...e };
}

export function etag(def: JobDefinition): string {
  return `"${def.version}"`;
}
