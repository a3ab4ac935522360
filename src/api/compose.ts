import type Koa from 'koa';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import { DeadLetterRepository } from '../persistence/dead-letter-repository';
import { ExecutionRepository } from '../persistence/execution-repository';
import { IdempotencyRepository } from '../persistence/idempotency-repository';
import { JobRepository } from '../persistence/job-repository';
import type { Database } from '../persistence/mongo';
import type { JobQueue } from '../queue/job-queue';
import { DeadLetterService } from '../services/dead-letter-service';
import { JobService } from '../services/job-service';
import type { DefinitionCache } from '../persistence/definition-cache';
import { createApp } from './app';

/** The API app wired to its repositories and services (used by the entrypoints and the tests). */
export function composeApi(deps: {
  db: Database;
  queue: JobQueue;
  registry: HandlerRegistry;
  logger: Logger;
  defaultTimeoutMs: number;
  definitions?: DefinitionCache;
  boardActions?: boolean;
}): Koa {
  const { db, queue, registry, logger } = deps;
  const jobs = new JobRepository(db.models);
  const executions = new ExecutionRepository(db.models);
  return createApp({
    jobs: new JobService({
      jobs,
      executions,
      queue,
      registry,
      logger,
      defaultTimeoutMs: deps.defaultTimeoutMs,
      definitions: deps.definitions,
    }),
    deadLetters: new DeadLetterService({ deadLetters: new DeadLetterRepository(db.models), jobs, queue }),
    executions,
    idempotency: new IdempotencyRepository(db.models),
    registry,
    queue,
    logger,
    storeConnected: () => db.conn.readyState === 1,
    boardActions: deps.boardActions,
    health: [
      { name: 'redis', check: () => queue.ping() },
      { name: 'mongodb', check: () => db.ping() },
    ],
  });
}
