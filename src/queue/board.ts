import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Middleware } from 'koa';
import type { JobQueue } from './job-queue';

/**
 * Bull Board for the queue, mounted at `basePath`. Read-only unless `actions`: its buttons act on
 * BullMQ behind Tock's back (docs/operations.md says what each does to Tock's records).
 */
export function bullBoard(queue: JobQueue, opts: { basePath: string; actions: boolean }): Middleware {
  const board = new KoaAdapter();
  createBullBoard({ queues: [new BullMQAdapter(queue.queue, { readOnlyMode: !opts.actions })], serverAdapter: board });
  board.setBasePath(opts.basePath);
  return board.registerPlugin({ mount: opts.basePath }) as Middleware;
}
