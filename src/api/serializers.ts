import type { DeadLetterEntry, ExecutionRecord } from '../domain/execution';
import type { JobDefinition } from '../domain/job-definition';

/** The JSON resources of the API (openapi.yaml: Job, Execution, DeadLetterEntry). */
export function jobResource(def: JobDefinition) {
  return {
    id: def.id,
    name: def.name,
    handler: def.handler,
    payload: def.payload,
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
